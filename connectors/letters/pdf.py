"""Decision letters as PDF (fpdf2), for paper mail through Suomi.fi Messages (Posti iPost).

Suomi.fi Messages prints and envelopes exactly one PDF per paper message
(shared/specs/suomifi/messages-rest/messages-api.yaml, ``paperMail.attachments``: 1 item);
Posti's print service wants A4 portrait pages with the fonts embedded, so the letter uses a
TrueType font (Inter, shipped with rpaframework-pdf, or DejaVu Sans from the system) rather
than the PDF core fonts, which are not embedded. The address block sits where a Finnish C5/C65
window envelope shows it (SFS 2487: 20 mm from the left, 45 mm from the top); the messages
are sent with ``createAddressPage`` as well, so the window is not relied on.
"""

from __future__ import annotations

import atexit
import functools
import importlib.resources
import shutil
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_BYTES = 10_485_760  # Suomi.fi Messages' upload limit


class LetterError(Exception):
    """The letter cannot be made (no usable font, too large for the printing service)."""


class LetterSettings(BaseSettings):
    """Fonts for letters (env prefix ``KUNTAFLOW_LETTERS_``); found automatically when unset."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_LETTERS_", extra="ignore")

    font_regular: Path | None = Field(default=None, description="TrueType font for body text.")
    font_bold: Path | None = Field(default=None, description="TrueType font for the title.")

    def fonts(self) -> tuple[Path, Path]:
        """(regular, bold) TrueType files.

        Raises:
            LetterError: none configured and none found.
        """
        if self.font_regular or self.font_bold:
            chosen = (self.font_regular, self.font_bold)
            if not all(path is not None and path.is_file() for path in chosen):
                raise LetterError("KUNTAFLOW_LETTERS_FONT_REGULAR and KUNTAFLOW_LETTERS_FONT_BOLD must both name TrueType files")
            return chosen  # type: ignore[return-value]
        candidates = [
            (_package_file("RPA.PDF", "assets/Inter-Regular.ttf"), _package_file("RPA.PDF", "assets/Inter-Bold.ttf")),
            (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
        ]
        for regular, bold in candidates:
            if regular and bold and regular.is_file() and bold.is_file():
                return regular, bold
        raise LetterError("no TrueType font for letters: set KUNTAFLOW_LETTERS_FONT_REGULAR and KUNTAFLOW_LETTERS_FONT_BOLD")


#: The characters a prepared letter font keeps: Latin-1 and Latin Extended-A (Finnish, Swedish,
#: Sámi, most European names), general punctuation, €. A letter with any other character (a name
#: in Vietnamese, say) is set in the whole font.
LETTER_CHARACTERS = frozenset([*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x2010, 0x2040), 0x20AC])
#: The smaller set most letters need: Latin-1 (Finnish, Swedish, English and most names), general
#: punctuation, €. fpdf2 parses and subsets a letter's fonts for every letter, so a font of ~250
#: glyphs instead of ~385 makes a letter ~1 ms faster; a letter with a Latin Extended-A character
#: (š, ž, č …) uses the :data:`LETTER_CHARACTERS` font.
COMMON_CHARACTERS = frozenset([*range(0x20, 0x7F), *range(0xA0, 0x100), *range(0x2010, 0x2040), 0x20AC])
#: OpenType layout tables fpdf2 drops from every embedded subset anyway (it does no text shaping here).
_LAYOUT_TABLES = ["GSUB", "GPOS", "GDEF", "FFTM", "MATH", "hdmx", "meta"]
_PREPARED_LOCK = threading.Lock()


@functools.cache
def _prepared_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="kuntaflow-letter-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def prepared_font(path: Path, characters: frozenset[int] = COMMON_CHARACTERS) -> Path:
    """``path`` cut down once per process to ``characters`` (:data:`COMMON_CHARACTERS` or
    :data:`LETTER_CHARACTERS`), without layout tables.

    Why: fpdf2 parses the whole font for every letter and fontTools' subsetter decompiled the
    font's layout tables (which fpdf2 then drops) for every letter: ~100 ms of CPU a letter with
    Inter. The glyphs and metrics kept are the font's own, so a letter looks the same. A letter
    with a character outside the set uses the whole font (:func:`letter_fonts`).
    """
    return _prepared(path, characters)


@functools.cache
def _prepared(path: Path, characters: frozenset[int]) -> Path:
    from fontTools import subset  # noqa: PLC0415 (fontTools comes with fpdf2; imported only when a letter is made)

    with _PREPARED_LOCK:
        options = subset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"], name_languages=["*"], glyph_names=True)
        options.drop_tables += _LAYOUT_TABLES
        options.layout_features = []
        font = subset.load_font(str(path), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(characters & set(font.getBestCmap())))
        subsetter.subset(font)
        target = _prepared_dir() / f"{path.stem}-{len(characters)}{path.suffix}"
        subset.save_font(font, str(target), options)
        return target


def letter_fonts(letter: Letter, fonts: tuple[Path, Path]) -> tuple[Path, Path]:
    """The smallest prepared fonts that hold every character of ``letter``, else the configured ones."""
    used = {ord(char) for char in letter.model_dump_json()}
    for characters in (COMMON_CHARACTERS, LETTER_CHARACTERS):
        if used <= characters | {0x0A}:
            return prepared_font(fonts[0], characters), prepared_font(fonts[1], characters)
    return fonts


def _keep_glyph_bounds(pdf: Any) -> None:
    """Have fpdf2 embed each glyph of the letter's font subset as the font file has it.

    Why: fpdf2 saves every letter's subset with fontTools, which by default unpacks each glyph
    used to recompute its bounding box and packs it again (~6 ms of CPU a letter, a quarter of
    it). The font files' own glyph bounds are right (a prepared font was saved by fontTools with
    them recomputed), so the letter embeds the same outlines, bounds and widths; only the
    font-wide bounds in ``head``/``hhea``/``maxp`` stay those of the file, a box that holds
    every glyph of the subset. ``FPDF.fonts`` and ``TTFont.recalcBBoxes`` are both public.
    """
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.recalcBBoxes = False


def _package_file(package: str, name: str) -> Path | None:
    try:
        return Path(str(importlib.resources.files(package) / name))
    except ModuleNotFoundError:
        return None


class PostalAddress(BaseModel):
    """An address block as Posti reads it (the fields Suomi.fi Messages' ``Address`` has)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=256, repr=False)
    additional_name: str | None = Field(default=None, max_length=256, repr=False)
    street_address: str = Field(min_length=1, max_length=256, repr=False)
    zip_code: str = Field(min_length=1, max_length=64, repr=False)
    city: str = Field(min_length=1, max_length=256, repr=False)
    country_code: str = Field(default="FI", pattern=r"^[A-Z]{2}$")

    def lines(self) -> list[str]:
        lines = [self.name, *([self.additional_name] if self.additional_name else []), self.street_address]
        lines.append(f"{self.zip_code} {self.city.upper()}")
        if self.country_code != "FI":
            lines.append(self.country_code)
        return lines


class Letter(BaseModel):
    """One letter: who sends it, to whom, and what it says."""

    model_config = ConfigDict(extra="forbid")

    sender: PostalAddress
    recipient: PostalAddress
    dated: date
    title: str = Field(min_length=1, max_length=256)
    paragraphs: list[str] = Field(min_length=1)
    reference: str | None = Field(default=None, max_length=120, description="A non-personal case reference printed in the header.")
    signature: str | None = Field(default=None, max_length=256)


def render_letter(letter: Letter, settings: LetterSettings | None = None) -> bytes:
    """The letter as an A4 PDF with its fonts embedded.

    Raises:
        LetterError: no usable font, or the PDF is over Suomi.fi Messages' 10 MiB limit.
    """
    from fpdf import FPDF  # noqa: PLC0415 (fpdf2 takes a quarter of a second to import; most robot runs print no letter)
    from fpdf.enums import XPos, YPos  # noqa: PLC0415 (fpdf2 takes a quarter of a second to import; most robot runs print no letter)

    regular, bold = letter_fonts(letter, (settings or LetterSettings()).fonts())
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creator("Kuntaflow")
    pdf.set_title(letter.title)
    pdf.set_lang("fi")
    pdf.add_font("Letter", "", str(regular))
    pdf.add_font("Letter", "B", str(bold))
    _keep_glyph_bounds(pdf)
    pdf.set_margins(left=20, top=15, right=20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    # Sender top left, date and reference top right.
    pdf.set_font("Letter", size=9)
    pdf.set_xy(20, 15)
    pdf.multi_cell(90, 4.2, "\n".join(letter.sender.lines()), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(120, 15)
    header = f"{letter.dated.day}.{letter.dated.month}.{letter.dated.year}"
    if letter.reference:
        header += f"\n{letter.reference}"
    pdf.multi_cell(70, 4.2, header, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Recipient in the envelope window.
    pdf.set_font("Letter", size=11)
    pdf.set_xy(20, 45)
    pdf.multi_cell(85, 5, "\n".join(letter.recipient.lines()), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_xy(20, 95)
    pdf.set_font("Letter", "B", size=14)
    pdf.multi_cell(0, 7, letter.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Letter", size=11)
    for paragraph in letter.paragraphs:
        pdf.multi_cell(0, 5.5, paragraph, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    if letter.signature:
        pdf.ln(4)
        pdf.multi_cell(0, 5.5, letter.signature, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    data = bytes(pdf.output())
    if len(data) > MAX_BYTES:
        raise LetterError(f"the letter is {len(data)} bytes; Suomi.fi Messages takes at most {MAX_BYTES}")
    return data
