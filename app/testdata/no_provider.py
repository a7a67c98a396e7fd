"""Synthetic Norwegian test data from one seeded source: never a real person's identity.

- organisasjonsnummer: 8 random digits plus a MOD11 check digit (weights 3 2 7 6 5 4 3 2).
- fødselsnummer: Skatteetaten's synthetic test convention, month + 80, with both check
  digits; such numbers are never issued to real people.
- kommunenummer and names from the committed SSB list (``kommuner_2024.csv``).
- caseworkers: Faker's ``no_NO`` names with e-mail on a reserved ``.invalid`` domain.

Same seed, same bytes: every value comes from ``random.Random(seed)``, and Faker is
seeded from it, never from the wall clock.
"""

from __future__ import annotations

import csv
import functools
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from faker import Faker

from app.domain.case import Kontaktpunkt

ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
FNR_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
FNR_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Kommune:
    """A kommune from SSB's list."""

    nummer: str
    navn: str
    fylkesnummer: str
    fylkesnavn: str


@functools.cache
def kommuner() -> dict[str, Kommune]:
    """All kommuner valid from 2024-01-01, keyed by kommunenummer."""
    text = resources.files("app.testdata").joinpath("kommuner_2024.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        row["kommunenummer"]: Kommune(
            row["kommunenummer"], row["kommunenavn"], row["fylkesnummer"], row["fylkesnavn"]
        )
        for row in rows
    }


def mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """MOD11 check digit for ``digits``; None when the remainder makes the number invalid."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def valid_orgnr(value: str) -> bool:
    """True for a nine-digit organisasjonsnummer with a correct check digit."""
    if len(value) != 9 or not value.isdigit():
        return False
    return mod11(value[:8], ORGNR_WEIGHTS) == int(value[8])


def valid_fnr_checksum(value: str) -> bool:
    """True when both MOD11 check digits of an 11-digit fødselsnummer are right."""
    if len(value) != 11 or not value.isdigit():
        return False
    return mod11(value[:9], FNR_K1_WEIGHTS) == int(value[9]) and mod11(
        value[:10], FNR_K2_WEIGHTS
    ) == int(value[10])


def is_synthetic_fnr(value: str) -> bool:
    """True for Skatteetaten's synthetic identities: valid check digits, month + 80."""
    return valid_fnr_checksum(value) and 81 <= int(value[2:4]) <= 92


def _ascii(text: str) -> str:
    text = text.replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = text.replace("Æ", "Ae").replace("Ø", "O").replace("Å", "A")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == ".")


@functools.cache
def _faker() -> Faker:
    # Building a Faker is slow; the instance is reseeded before every use.
    return Faker("no_NO")


class SyntheticData:
    """The run's seeded source of identifiers and people."""

    def __init__(self, seed: int | str) -> None:
        self.random = random.Random(str(seed))
        self._faker = _faker()

    def _seed_faker(self) -> Faker:
        self._faker.seed_instance(self.random.getrandbits(64))
        return self._faker

    def uuid(self) -> str:
        """A UUID4-form identifier."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def token(self, nbytes: int = 24) -> str:
        """A URL-safe secret of ``nbytes`` random bytes, hex encoded."""
        return self.random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def organisasjonsnummer(self) -> str:
        """A nine-digit organisasjonsnummer with a valid MOD11 check digit."""
        while True:
            body = str(self.random.randint(8, 9)) + "".join(
                str(self.random.randint(0, 9)) for _ in range(7)
            )
            check = mod11(body, ORGNR_WEIGHTS)
            if check is not None:
                return body + str(check)

    def fodselsnummer(self, born: date | None = None) -> str:
        """A synthetic fødselsnummer (month + 80) with both check digits valid."""
        while True:
            day = born or date(1950, 1, 1) + timedelta(days=self.random.randint(0, 365 * 55))
            individ = (
                self.random.randint(0, 499) if day.year < 2000 else self.random.randint(500, 999)
            )
            body = f"{day.day:02d}{day.month + 80:02d}{day.year % 100:02d}{individ:03d}"
            k1 = mod11(body, FNR_K1_WEIGHTS)
            if k1 is None:
                continue
            k2 = mod11(body + str(k1), FNR_K2_WEIGHTS)
            if k2 is None:
                continue
            return f"{body}{k1}{k2}"

    def kommune(self) -> Kommune:
        """A kommune from SSB's 2024 list."""
        alle = kommuner()
        return alle[self.random.choice(sorted(alle))]

    def innsendingsreferanse(self) -> str:
        """An Altinn-style archive reference, ``AR`` + 8 digits."""
        return f"AR{self.random.randint(10_000_000, 99_999_999)}"

    def ftbid(self) -> str:
        """An FtPB project id, ``BYGG-`` + 4 to 5 digits."""
        return f"BYGG-{self.random.randint(1000, 99999)}"

    def saksbehandler(self, kommune: Kommune | None = None) -> Kontaktpunkt:
        """A synthetic caseworker; e-mail on a reserved domain so nothing is ever delivered."""
        fake = self._seed_faker()
        first, last = fake.first_name(), fake.last_name()
        domain = _ascii(kommune.navn.split(" - ")[0]) if kommune else "kommune"
        return Kontaktpunkt(
            navn=f"{first} {last}",
            epost=f"{_ascii(first)}.{_ascii(last)}@{domain}.kommune.invalid",
            telefon=f"{self.random.randint(2, 7)}{self.random.randint(0, 9_999_999):07d}",
            mobil=f"{self.random.choice((4, 9))}{self.random.randint(0, 9_999_999):07d}",
        )

    def person_name(self) -> str:
        """A Norwegian full name."""
        return str(self._seed_faker().name())
