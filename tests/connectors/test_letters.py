"""Decision letters as PDF: the fonts are prepared once per process and the text stays whole."""

from __future__ import annotations

import io
from datetime import date

from fontTools.ttLib import TTFont
from pypdf import PdfReader

from connectors.letters.pdf import COMMON_CHARACTERS, LETTER_CHARACTERS, Letter, LetterSettings, PostalAddress, letter_fonts, prepared_font, render_letter

SENDER = PostalAddress(name="Jyväskylän kaupunginkirjasto", street_address="Vapaudenkatu 39–41", zip_code="40100", city="Jyväskylä")


def letter(name: str) -> Letter:
    recipient = PostalAddress(name=name, street_address="Väinönkatu 7 B 12", zip_code="40100", city="Jyväskylä")
    return Letter(sender=SENDER, recipient=recipient, dated=date(2026, 12, 4), title="Kirjastokorttisi on valmis", paragraphs=["Nouda kortti – €0."])


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_letter_in_the_prepared_fonts_reads_as_written_and_embeds_only_them():
    finnish = letter("Märta-Liisa Åkerström-Nieminen")
    fonts = LetterSettings().fonts()
    assert letter_fonts(finnish, fonts) == (prepared_font(fonts[0]), prepared_font(fonts[1]))
    text = text_of(render_letter(finnish))
    assert "Märta-Liisa Åkerström-Nieminen" in text and "Kirjastokorttisi on valmis" in text and "Nouda kortti – €0." in text


def test_the_fonts_are_prepared_once_per_process():
    fonts = LetterSettings().fonts()
    assert prepared_font(fonts[0]) is prepared_font(fonts[0])
    assert prepared_font(fonts[0]).stat().st_size < fonts[0].stat().st_size


def test_a_name_outside_the_prepared_characters_is_set_in_the_whole_font():
    vietnamese = letter("Nguyễn Thị Ánh")
    assert ord("ễ") not in LETTER_CHARACTERS
    assert letter_fonts(vietnamese, LetterSettings().fonts()) == LetterSettings().fonts()
    assert "Nguyễn Thị Ánh" in text_of(render_letter(vietnamese))


def test_the_embedded_glyphs_are_the_font_files_own():
    """fpdf2 saves each letter's subset without recomputing glyph bounds (``_keep_glyph_bounds``):
    every character's glyph in the letter has the prepared font's outline, bounds and width."""
    finnish = letter("Märta-Liisa Åkerström-Nieminen")
    regular, bold = letter_fonts(finnish, LetterSettings().fonts())
    reader = PdfReader(io.BytesIO(render_letter(finnish)))
    embedded = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    assert len(embedded) == 2
    for font in embedded:
        data = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        subset = TTFont(io.BytesIO(data))
        source = TTFont(str(bold if "Bold" in str(font["/BaseFont"]) else regular))
        checked = 0
        for code, name in subset.getBestCmap().items():
            theirs, ours = subset["glyf"][name], source["glyf"][source.getBestCmap()[code]]
            assert subset["hmtx"][name] == source["hmtx"][source.getBestCmap()[code]]
            if ours.numberOfContours:
                assert theirs.getCoordinates(subset["glyf"]) == ours.getCoordinates(source["glyf"])
                assert (theirs.xMin, theirs.yMin, theirs.xMax, theirs.yMax) == (ours.xMin, ours.yMin, ours.xMax, ours.yMax)
            checked += 1
        assert checked > 10


def test_a_name_with_latin_extended_a_gets_the_larger_prepared_font():
    czech = letter("Šárka Dvořáková")
    assert ord("ř") not in COMMON_CHARACTERS and ord("ř") in LETTER_CHARACTERS
    fonts = LetterSettings().fonts()
    larger = letter_fonts(czech, fonts)
    assert larger == (prepared_font(fonts[0], LETTER_CHARACTERS), prepared_font(fonts[1], LETTER_CHARACTERS))
    assert larger[0].stat().st_size > prepared_font(fonts[0]).stat().st_size
    assert "Šárka Dvořáková" in text_of(render_letter(czech))
