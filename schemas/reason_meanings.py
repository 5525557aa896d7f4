"""What a reason or error code means, in plain language, for the person who reads it.

A code such as ``GUARDIANSHIP_NOT_VERIFIED`` is for machines and searches; whoever reads an outcome (the
``make run`` summary, ``kuntaflow queue list``/``show``) also gets one sentence that says what happened
and, where a person must act, what to do. Codes are strings here, not the processes' enums, so that every
layer can explain any code it meets (a connector's, the engine's, a process's) without importing them. Each meaning is
written in English, Finnish and Swedish (:data:`TRANSLATED`); a test checks the three hold the same codes.
"""

from __future__ import annotations

#: The languages a meaning is written in (the staff Desk shows them in fi, sv and en; the CLI in en).
LANGUAGES = ("fi", "sv", "en")

#: Codes whose meaning is specific: the processes' business reasons and the engine's own.
MEANINGS: dict[str, str] = {
    # library card: decisions
    "CARD_GRANTED": "the library card was granted and the patron created in the library system",
    "NON_DISCLOSURE_STAFF_REVIEW": "the applicant has a non-disclosure marking: the patron was created, library staff complete the details",
    "ALREADY_A_PATRON": "the applicant already has a library card; no second one was made",
    "UNDER_15_NO_GUARDIAN": "an applicant under 15 needs a guardian to apply",
    "GUARDIAN_NOT_ADULT": "the guardian who applied is not yet 18",
    "GUARDIANSHIP_NOT_VERIFIED": "the guardianship could not be confirmed from the population register: staff check it",
    "NO_PERMANENT_ADDRESS_IN_FINLAND": "the population register has no permanent address in Finland for the applicant",
    "NO_FINNISH_HETU_STAFF_REVIEW": "the applicant logged in without a Finnish personal identity code (eIDAS): staff identify them",
    "UNKNOWN_HOME_LIBRARY": "the chosen home library is not in the library system: staff pick the right one",
    "POSSIBLE_DUPLICATE_STAFF_REVIEW": "a patron with the same name and birth date already exists: staff decide whether it is the same person",
    "INVALID_APPLICATION": "the application's data broke the rules of its form (for example an invalid personal identity code); correct it and retry",
    # card-expiry reminders (every one ends DONE)
    "REMINDED": "the patron (a child's guarantor) was reminded that the library card runs out",
    "NO_CHANNEL": "no e-mail address in the library system and no lawful way to the Suomi.fi mailbox: the library tells the patron at the desk",
    "NO_GUARANTOR": "a child's card has no guarantor in the library system to remind: staff add one",
    "CARD_RENEWED": "the card was renewed or removed after the reminder was queued: nothing to remind of",
    "NOTIFICATION_REFUSED": "on a retry the mail server refused an address an earlier attempt may have reached: a person checks",
    "INVALID_PAYLOAD": "the work item's data is not what the process reads; correct it and retry",
    # employment start
    "INVALID_EMPLOYEE": "the new employee's details broke the rules of HR's form; correct them and retry",
    "HIRE_DETAILS_MISSING": "a hire from recruitment lacks the personal identity code, unit or supervisor: HR adds them and retries",
    "START_DATE_IN_PAST": "the employment's start date has already passed",
    "LICENCE_NUMBER_MISSING": "the job title needs a licensed professional but no Valvira registration number was given",
    "UNKNOWN_SUPERVISOR": "the supervisor is not in the HR system",
    "UNKNOWN_UNIT": "the unit is not in the HR system",
    "SUPERVISOR_WITHOUT_EMAIL": "the supervisor has no e-mail address in the HR system, so the checklist cannot be sent",
    "SUPERVISOR_DID_NOT_CONFIRM": "the supervisor did not confirm the employment start after a reminder: HR follows it up",
    "LETTER_REFUSED": "the letter did not reach the candidate: contact them another way",
    # mass recruitment: the screening (the recruiter's report has the Finnish wording)
    "LICENCE_EXPIRED": "the candidate's right to practise has ended",
    "WRONG_PROFESSION": "the candidate lacks the professional right the job requires",
    "QUALIFICATION_MISSING": "the candidate lacks the required degree",
    "FINNISH_INSUFFICIENT": "the candidate's Finnish is below the required level",
    "NOT_AVAILABLE": "the candidate is not available during the employment",
    "LICENCE_NOT_FOUND": "the candidate was not found in the professional register: check the number, or the name and birth date",
    "LICENCE_DETAILS_MISMATCH": "the registration number belongs to someone else (name or birth date differ)",
    "SEVERAL_REGISTER_MATCHES": "several people in the register share the candidate's name and birth date",
    "LICENCE_LIMITED": "the candidate's right to practise is limited",
    "PARTLY_AVAILABLE": "the candidate is available for only part of the employment",
    "NO_REFERENCE_CONSENT": "the candidate has not consented to references being contacted",
    "NO_INTERVIEW_SLOT": "eligible, but the interview slots are full: add slots",
    "UNREADABLE_APPLICATION": "the application's data could not be read",
    "JOB_NOT_OPEN": "the job is not open for applications in the recruitment system",
    "JOB_NOT_FOUND": "the job is not in the recruitment system",
    "STAGES_MISSING": "the job has no recruitment stages to move candidates through",
    "EXPORT_UNREADABLE": "the recruitment system's applicant export could not be read",
    # the engine
    "ROBOT_DID_NOT_FINISH": "the robot stopped before finishing the case; it is retried",
    "LEASE_EXPIRED": "the robot working on the case went silent; the case was taken back for a retry",
    "ROBOT_TIMEOUT": "the robot ran out of time; the case is retried",
    "UNEXPECTED_DATA": "a system's answer or our own data did not have the expected shape: an integration fault for IT",
    "UNEXPECTED_ERROR": "an unexpected error stopped the case: IT reads the robot's log",
    "CATEGORY_CONFIGURATION": "the library's patron categories are not configured as Kuntaflow expects: IT fixes the settings",
}

#: The same meanings in Finnish and Swedish, for staff who read them in the Desk.
TRANSLATED: dict[str, dict[str, str]] = {
    "fi": {
        "CARD_GRANTED": "kirjastokortti myönnettiin ja asiakas luotiin kirjastojärjestelmään",
        "NON_DISCLOSURE_STAFF_REVIEW": "hakijalla on turvakielto: asiakas luotiin, kirjaston henkilökunta täydentää tiedot",
        "ALREADY_A_PATRON": "hakijalla on jo kirjastokortti; toista ei tehty",
        "UNDER_15_NO_GUARDIAN": "alle 15-vuotiaan puolesta hakee huoltaja",
        "GUARDIAN_NOT_ADULT": "hakenut huoltaja ei ole vielä 18-vuotias",
        "GUARDIANSHIP_NOT_VERIFIED": "huoltajuutta ei voitu varmistaa väestötietojärjestelmästä: henkilökunta tarkistaa sen",
        "NO_PERMANENT_ADDRESS_IN_FINLAND": "väestötietojärjestelmässä ei ole hakijalle vakinaista osoitetta Suomessa",
        "NO_FINNISH_HETU_STAFF_REVIEW": "hakija tunnistautui ilman suomalaista henkilötunnusta (eIDAS): henkilökunta tunnistaa hänet",
        "UNKNOWN_HOME_LIBRARY": "valittua kotikirjastoa ei ole kirjastojärjestelmässä: henkilökunta valitsee oikean",
        "POSSIBLE_DUPLICATE_STAFF_REVIEW": "samalla nimellä ja syntymäajalla on jo asiakas: henkilökunta ratkaisee, onko hän sama henkilö",
        "INVALID_APPLICATION": "hakemuksen tiedot rikkoivat lomakkeen sääntöjä (esimerkiksi virheellinen henkilötunnus); korjaa ja yritä uudelleen",
        "INVALID_EMPLOYEE": "uuden työntekijän tiedot rikkoivat HR:n lomakkeen sääntöjä; korjaa ja yritä uudelleen",
        "HIRE_DETAILS_MISSING": "rekrytoinnista tulleelta palkkaukselta puuttuu henkilötunnus, yksikkö tai esihenkilö: HR lisää ne ja yrittää uudelleen",
        "START_DATE_IN_PAST": "työsuhteen aloituspäivä on jo mennyt",
        "LICENCE_NUMBER_MISSING": "tehtävä vaatii laillistetun ammattihenkilön, mutta Valviran rekisteröintinumeroa ei annettu",
        "UNKNOWN_SUPERVISOR": "esihenkilöä ei ole HR-järjestelmässä",
        "UNKNOWN_UNIT": "yksikköä ei ole HR-järjestelmässä",
        "SUPERVISOR_WITHOUT_EMAIL": "esihenkilöllä ei ole sähköpostiosoitetta HR-järjestelmässä, joten tarkistuslistaa ei voi lähettää",
        "SUPERVISOR_DID_NOT_CONFIRM": "esihenkilö ei vahvistanut työsuhteen alkua muistutuksen jälkeenkään: HR selvittää asian",
        "LETTER_REFUSED": "kirje ei tavoittanut hakijaa: ota häneen yhteyttä muuten",
        "LICENCE_EXPIRED": "hakijan ammattioikeus on päättynyt",
        "WRONG_PROFESSION": "hakijalla ei ole tehtävän vaatimaa ammattioikeutta",
        "QUALIFICATION_MISSING": "hakijalta puuttuu vaadittu tutkinto",
        "FINNISH_INSUFFICIENT": "hakijan suomen kielen taito on vaadittua heikompi",
        "NOT_AVAILABLE": "hakija ei ole käytettävissä työsuhteen aikana",
        "LICENCE_NOT_FOUND": "hakijaa ei löytynyt ammattihenkilörekisteristä: tarkista numero tai nimi ja syntymäaika",
        "LICENCE_DETAILS_MISMATCH": "rekisteröintinumero kuuluu toiselle (nimi tai syntymäaika eroaa)",
        "SEVERAL_REGISTER_MATCHES": "rekisterissä on useita henkilöitä samalla nimellä ja syntymäajalla",
        "LICENCE_LIMITED": "hakijan ammattioikeutta on rajoitettu",
        "PARTLY_AVAILABLE": "hakija on käytettävissä vain osan työsuhteesta",
        "NO_REFERENCE_CONSENT": "hakija ei ole antanut lupaa suosittelijoiden kysymiseen",
        "NO_INTERVIEW_SLOT": "kelpoinen, mutta haastatteluajat ovat täynnä: lisää aikoja",
        "UNREADABLE_APPLICATION": "hakemuksen tietoja ei voitu lukea",
        "JOB_NOT_OPEN": "paikka ei ole haettavana rekrytointijärjestelmässä",
        "JOB_NOT_FOUND": "paikkaa ei ole rekrytointijärjestelmässä",
        "STAGES_MISSING": "paikalla ei ole rekrytoinnin vaiheita, joihin hakijoita siirretään",
        "EXPORT_UNREADABLE": "rekrytointijärjestelmän hakijatiedostoa ei voitu lukea",
        "ROBOT_DID_NOT_FINISH": "robotti pysähtyi ennen kuin asia oli valmis; se yritetään uudelleen",
        "LEASE_EXPIRED": "asiaa käsitellyt robotti lakkasi vastaamasta; asia otettiin takaisin uutta yritystä varten",
        "ROBOT_TIMEOUT": "robotin aika loppui; asia yritetään uudelleen",
        "UNEXPECTED_DATA": "järjestelmän vastaus tai omat tietomme eivät olleet odotetun muotoisia: integraatiovika IT:lle",
        "UNEXPECTED_ERROR": "odottamaton virhe pysäytti asian: IT lukee robotin lokin",
        "CATEGORY_CONFIGURATION": "kirjaston asiakasryhmiä ei ole määritetty niin kuin Kuntaflow odottaa: IT korjaa asetukset",
        "REMINDED": "asiakkaalle (lapsen takaajalle) muistutettiin, että kirjastokortti vanhenee",
        "NO_CHANNEL": "kirjastojärjestelmässä ei ole sähköpostiosoitetta eikä Suomi.fi-viesteihin ole lainmukaista tietä: kirjasto kertoo asiakkaalle tiskillä",
        "NO_GUARANTOR": "lapsen kortilla ei ole kirjastojärjestelmässä takaajaa, jota muistuttaa: henkilökunta lisää hänet",
        "CARD_RENEWED": "kortti uusittiin tai poistettiin muistutuksen jonoon laiton jälkeen: ei muistutettavaa",
        "NOTIFICATION_REFUSED": "uusintayrityksellä sähköpostipalvelin hylkäsi osoitteen, jonka aiempi yritys on ehkä tavoittanut: ihminen tarkistaa",
        "INVALID_PAYLOAD": "asian tiedot eivät ole sitä, mitä prosessi lukee; korjaa ja yritä uudelleen",
    },
    "sv": {
        "CARD_GRANTED": "lånekortet beviljades och kunden skapades i bibliotekssystemet",
        "NON_DISCLOSURE_STAFF_REVIEW": "sökanden har spärrmarkering: kunden skapades, bibliotekets personal kompletterar uppgifterna",
        "ALREADY_A_PATRON": "sökanden har redan ett lånekort; inget andra gjordes",
        "UNDER_15_NO_GUARDIAN": "för en sökande under 15 ansöker en vårdnadshavare",
        "GUARDIAN_NOT_ADULT": "vårdnadshavaren som ansökte är ännu inte 18 år",
        "GUARDIANSHIP_NOT_VERIFIED": "vårdnaden kunde inte bekräftas i befolkningsdatasystemet: personalen kontrollerar den",
        "NO_PERMANENT_ADDRESS_IN_FINLAND": "befolkningsdatasystemet har ingen stadigvarande adress i Finland för sökanden",
        "NO_FINNISH_HETU_STAFF_REVIEW": "sökanden identifierade sig utan finsk personbeteckning (eIDAS): personalen identifierar hen",
        "UNKNOWN_HOME_LIBRARY": "det valda hembiblioteket finns inte i bibliotekssystemet: personalen väljer det rätta",
        "POSSIBLE_DUPLICATE_STAFF_REVIEW": "en kund med samma namn och födelsedatum finns redan: personalen avgör om det är samma person",
        "INVALID_APPLICATION": "ansökans uppgifter bröt mot blankettens regler (till exempel en felaktig personbeteckning); rätta och försök igen",
        "INVALID_EMPLOYEE": "den nyanställdas uppgifter bröt mot HR-blankettens regler; rätta och försök igen",
        "HIRE_DETAILS_MISSING": "en anställning från rekryteringen saknar personbeteckning, enhet eller chef: HR lägger till dem och försöker igen",
        "START_DATE_IN_PAST": "anställningens startdag har redan passerat",
        "LICENCE_NUMBER_MISSING": "uppgiften kräver en legitimerad yrkesutbildad person men inget registreringsnummer från Valvira gavs",
        "UNKNOWN_SUPERVISOR": "chefen finns inte i HR-systemet",
        "UNKNOWN_UNIT": "enheten finns inte i HR-systemet",
        "SUPERVISOR_WITHOUT_EMAIL": "chefen har ingen e-postadress i HR-systemet, så checklistan kan inte skickas",
        "SUPERVISOR_DID_NOT_CONFIRM": "chefen bekräftade inte anställningens början efter en påminnelse: HR följer upp",
        "LETTER_REFUSED": "brevet nådde inte kandidaten: kontakta hen på annat sätt",
        "LICENCE_EXPIRED": "kandidatens yrkesrätt har upphört",
        "WRONG_PROFESSION": "kandidaten saknar den yrkesrätt uppgiften kräver",
        "QUALIFICATION_MISSING": "kandidaten saknar den examen som krävs",
        "FINNISH_INSUFFICIENT": "kandidatens kunskaper i finska är under den nivå som krävs",
        "NOT_AVAILABLE": "kandidaten är inte tillgänglig under anställningen",
        "LICENCE_NOT_FOUND": "kandidaten hittades inte i yrkesregistret: kontrollera numret, eller namnet och födelsedatumet",
        "LICENCE_DETAILS_MISMATCH": "registreringsnumret tillhör någon annan (namn eller födelsedatum skiljer sig)",
        "SEVERAL_REGISTER_MATCHES": "flera personer i registret har kandidatens namn och födelsedatum",
        "LICENCE_LIMITED": "kandidatens yrkesrätt är begränsad",
        "PARTLY_AVAILABLE": "kandidaten är tillgänglig endast under en del av anställningen",
        "NO_REFERENCE_CONSENT": "kandidaten har inte samtyckt till att referenser kontaktas",
        "NO_INTERVIEW_SLOT": "behörig, men intervjutiderna är fulla: lägg till tider",
        "UNREADABLE_APPLICATION": "ansökans uppgifter kunde inte läsas",
        "JOB_NOT_OPEN": "tjänsten är inte öppen för ansökningar i rekryteringssystemet",
        "JOB_NOT_FOUND": "tjänsten finns inte i rekryteringssystemet",
        "STAGES_MISSING": "tjänsten har inga rekryteringsskeden att flytta kandidater genom",
        "EXPORT_UNREADABLE": "rekryteringssystemets sökandefil kunde inte läsas",
        "ROBOT_DID_NOT_FINISH": "roboten stannade innan ärendet var klart; det försöks igen",
        "LEASE_EXPIRED": "roboten som arbetade med ärendet slutade svara; ärendet togs tillbaka för ett nytt försök",
        "ROBOT_TIMEOUT": "robotens tid tog slut; ärendet försöks igen",
        "UNEXPECTED_DATA": "ett systems svar eller våra egna uppgifter hade inte den väntade formen: ett integrationsfel för IT",
        "UNEXPECTED_ERROR": "ett oväntat fel stoppade ärendet: IT läser robotens logg",
        "CATEGORY_CONFIGURATION": "bibliotekets kundkategorier är inte inställda som Kuntaflow förväntar sig: IT rättar inställningarna",
        "REMINDED": "kunden (ett barns borgensman) påmindes om att lånekortet går ut",
        "NO_CHANNEL": "ingen e-postadress i bibliotekssystemet och ingen laglig väg till Suomi.fi-meddelanden: biblioteket meddelar kunden vid disken",
        "NO_GUARANTOR": "ett barns kort har ingen borgensman i bibliotekssystemet att påminna: personalen lägger till en",
        "CARD_RENEWED": "kortet förnyades eller togs bort efter att påminnelsen köades: inget att påminna om",
        "NOTIFICATION_REFUSED": "vid ett nytt försök avvisade e-postservern en adress som ett tidigare försök kan ha nått: en person kontrollerar",
        "INVALID_PAYLOAD": "ärendets uppgifter är inte det som processen läser; rätta och försök igen",
    },
}

#: Endings shared by the connectors' codes (``KOHA_UNAVAILABLE``, ``HR_AUTHENTICATION`` …): the system is the prefix.
_BY_ENDING_EN: dict[str, str] = {
    "_UNAVAILABLE": "{system} did not answer or was overloaded; the case is retried later",
    "_AUTHENTICATION": "{system} refused Kuntaflow's credentials: IT checks the settings",
    "_FORBIDDEN": "{system} did not allow the operation for Kuntaflow's account: IT checks its rights",
    "_REJECTED": "{system} refused the data Kuntaflow sent: an integration fault for IT",
    "_VALIDATION": "{system} found the data Kuntaflow sent invalid: an integration fault for IT",
    "_NOT_FOUND": "{system} did not find what the case refers to",
}

_SYSTEMS_EN = {
    "KOHA": "the library system",
    "VIESTIT": "Suomi.fi Messages",
    "HR": "the HR system",
    "SERVICEDESK": "the service desk",
    "HELBIT": "the recruitment system",
    "HELBIT_UI": "the recruitment system's web UI",
    "VALVIRA": "the professional register",
    "EMAIL": "the e-mail server",
    "SAML": "Suomi.fi e-Identification",
}


_BY_ENDING: dict[str, dict[str, str]] = {
    "en": _BY_ENDING_EN,
    "fi": {
        "_UNAVAILABLE": "{system} ei vastannut tai oli ylikuormittunut; asia yritetään myöhemmin uudelleen",
        "_AUTHENTICATION": "{system} ei hyväksynyt Kuntaflow'n tunnuksia: IT tarkistaa asetukset",
        "_FORBIDDEN": "{system} ei sallinut toimintoa Kuntaflow'n tilille: IT tarkistaa oikeudet",
        "_REJECTED": "{system} hylkäsi Kuntaflow'n lähettämät tiedot: integraatiovika IT:lle",
        "_VALIDATION": "{system} piti Kuntaflow'n lähettämiä tietoja virheellisinä: integraatiovika IT:lle",
        "_NOT_FOUND": "{system} ei löytänyt sitä, mihin asia viittaa",
    },
    "sv": {
        "_UNAVAILABLE": "{system} svarade inte eller var överbelastat; ärendet försöks igen senare",
        "_AUTHENTICATION": "{system} godkände inte Kuntaflows inloggningsuppgifter: IT kontrollerar inställningarna",
        "_FORBIDDEN": "{system} tillät inte åtgärden för Kuntaflows konto: IT kontrollerar rättigheterna",
        "_REJECTED": "{system} avvisade uppgifterna Kuntaflow skickade: ett integrationsfel för IT",
        "_VALIDATION": "{system} fann uppgifterna Kuntaflow skickade ogiltiga: ett integrationsfel för IT",
        "_NOT_FOUND": "{system} hittade inte det som ärendet hänvisar till",
    },
}

_SYSTEMS: dict[str, dict[str, str]] = {
    "en": _SYSTEMS_EN,
    "fi": {
        "KOHA": "kirjastojärjestelmä",
        "VIESTIT": "Suomi.fi-viestit",
        "HR": "HR-järjestelmä",
        "SERVICEDESK": "palvelupiste",
        "HELBIT": "rekrytointijärjestelmä",
        "HELBIT_UI": "rekrytointijärjestelmän käyttöliittymä",
        "VALVIRA": "ammattihenkilörekisteri",
        "EMAIL": "sähköpostipalvelin",
        "SAML": "Suomi.fi-tunnistus",
    },
    "sv": {
        "KOHA": "bibliotekssystemet",
        "VIESTIT": "Suomi.fi-meddelanden",
        "HR": "HR-systemet",
        "SERVICEDESK": "servicedisken",
        "HELBIT": "rekryteringssystemet",
        "HELBIT_UI": "rekryteringssystemets webbgränssnitt",
        "VALVIRA": "yrkesregistret",
        "EMAIL": "e-postservern",
        "SAML": "Suomi.fi-identifikationen",
    },
}

_OTHER_SYSTEM = {"en": "the other system", "fi": "toinen järjestelmä", "sv": "det andra systemet"}
_FALLBACK = {
    "none": {"en": "no reason was recorded", "fi": "syytä ei kirjattu", "sv": "ingen orsak registrerades"},
    "saml": {
        "en": "the Suomi.fi login answer was refused as unsafe or invalid",
        "fi": "Suomi.fi-tunnistuksen vastaus hylättiin turvattomana tai virheellisenä",
        "sv": "svaret från Suomi.fi-identifikationen avvisades som osäkert eller ogiltigt",
    },
    "unknown": {"en": "see the case's error message", "fi": "katso asian virheilmoitus", "sv": "se ärendets felmeddelande"},
}


def meaning(code: str | None, language: str = "en") -> str:
    """One plain-language sentence for ``code`` in ``language`` (fi, sv or en); a neutral one when the code is unknown or missing.

    Raises:
        ValueError: ``language`` is not one of :data:`LANGUAGES`.
    """
    if language not in LANGUAGES:
        raise ValueError(f"meanings are written in {', '.join(LANGUAGES)}, not {language!r}")
    if not code:
        return _FALLBACK["none"][language]
    specific = MEANINGS if language == "en" else TRANSLATED[language]
    if code in specific:
        return specific[code]
    for ending, template in _BY_ENDING[language].items():
        if code.endswith(ending):
            prefix = code[: -len(ending)]
            system = _SYSTEMS[language].get(prefix, _OTHER_SYSTEM[language])
            return template.format(system=system[0].upper() + system[1:] if language != "en" else system)
    if code.startswith("SAML_"):
        return _FALLBACK["saml"][language]
    return _FALLBACK["unknown"][language]


def with_meaning(code: str | None) -> str:
    """``CODE: meaning`` for a line a person reads."""
    return f"{code or '-'}: {meaning(code)}"
