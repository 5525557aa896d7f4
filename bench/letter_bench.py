"""Decision letters as PDF: milliseconds per letter, wall and CPU, the fonts loaded once per process.

Renders the library card's real decision letters (``schemas.library_card.decision_text`` for every
reason code, in Finnish, Swedish and English, as ``processes.library_card.delivery`` builds them)
with ``connectors.letters.render_letter``. The first letter of the process prepares the fonts
(``connectors.letters.pdf.prepared_font``) and is reported apart.

    .venv/bin/python bench/letter_bench.py [--letters 200] [--profile]

Target: under 20 ms a letter. Last line ``letter_ms=… letter_cpu_ms=… first_letter_ms=…``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import load  # noqa: E402

TARGET_MS = 20.0


def sample_letters() -> list:
    from connectors.letters import Letter, PostalAddress
    from schemas.library_card import DecisionFacts, ReasonCode, decision_text

    sender = PostalAddress(name="Jyväskylän kaupunginkirjasto", street_address="Vapaudenkatu 39–41", zip_code="40100", city="Jyväskylä")
    recipient = PostalAddress(name="Märta-Liisa Åkerström-Nieminen", street_address="Väinönkatu 7 B 12", zip_code="40100", city="Jyväskylä")
    facts = DecisionFacts(library_name="Vaajakosken kirjasto", existing_library_name="Korpilahden kirjasto", expiry_date=date(2031, 11, 25))
    letters = []
    for reason in ReasonCode:
        for language in ("fi", "sv", "en"):
            text = decision_text(reason, language, facts)
            letter = Letter(sender=sender, recipient=recipient, dated=date(2026, 12, 4), title=text.title, paragraphs=text.paragraphs)
            letters.append(letter.model_copy(update={"reference": "Hakemus 4711", "signature": sender.name}))
    return letters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the steady letters")
    args = parser.parse_args()
    from connectors.letters import render_letter

    letters = sample_letters()
    print(f"Decision letters: {args.letters} of {len(letters)} kinds (reason × language); {load()}")
    began = time.perf_counter()
    render_letter(letters[0])
    first_ms = (time.perf_counter() - began) * 1000
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    walls, cpus = [], []
    for n in range(args.letters):
        wall, cpu = time.perf_counter(), time.process_time()
        render_letter(letters[n % len(letters)])
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(show_all=False))
    median, cpu, p95 = statistics.median(walls), statistics.median(cpus), sorted(walls)[int(len(walls) * 0.95) - 1]
    print(f"  first letter (fonts prepared): {first_ms:.0f} ms; then median {median:.1f} ms wall, {cpu:.1f} ms CPU, p95 {p95:.1f} ms ({load()})")
    met = "yes" if median <= TARGET_MS else "no"
    print(f"\nletter_ms={median:.1f} letter_cpu_ms={cpu:.1f} first_letter_ms={first_ms:.0f} target_ms={TARGET_MS:g} met={met} ({load()})")


if __name__ == "__main__":
    main()
