"""Synthetic Norwegian data: valid check digits, never a real person, same seed same bytes."""

from __future__ import annotations

from datetime import date

from stdnum.no import fodselsnummer, orgnr

from app.testdata.no_provider import (
    FNR_K1_WEIGHTS,
    FNR_K2_WEIGHTS,
    SyntheticData,
    is_synthetic_fnr,
    kommuner,
    mod11,
    valid_fnr_checksum,
    valid_orgnr,
)


def test_orgnr_have_valid_mod11_check_digits() -> None:
    data = SyntheticData(1)
    numbers = [data.organisasjonsnummer() for _ in range(2000)]
    assert all(orgnr.is_valid(n) and valid_orgnr(n) for n in numbers)
    assert not valid_orgnr("974760224")  # DiBK's 974760223 with the last digit changed
    assert valid_orgnr("974760223")


def test_fodselsnummer_are_synthetic_month_plus_80() -> None:
    data = SyntheticData(2)
    numbers = [data.fodselsnummer() for _ in range(2000)]
    assert all(is_synthetic_fnr(n) for n in numbers)
    assert all(81 <= int(n[2:4]) <= 92 for n in numbers)
    # Take the 80 off the month and stdnum accepts the rest: the check digits are honest.
    born = data.fodselsnummer(date(1985, 6, 15))
    assert born.startswith("158685")
    assert valid_fnr_checksum(born)
    checked = 0
    for number in numbers[:300]:
        # stdnum refuses month + 80: such a number can never be a real person's.
        assert not fodselsnummer.is_valid(number)
        # Moved back to the real month (with check digits recomputed) the date and
        # individual number form a number stdnum accepts: only the +80 marks it synthetic.
        body = number[:2] + f"{int(number[2:4]) - 80:02d}" + number[4:9]
        k1 = mod11(body, FNR_K1_WEIGHTS)
        k2 = mod11(body + str(k1), FNR_K2_WEIGHTS) if k1 is not None else None
        if k1 is not None and k2 is not None:
            assert fodselsnummer.is_valid(f"{body}{k1}{k2}"), number
            checked += 1
    assert checked > 200


def test_kommune_list_is_ssb_2024() -> None:
    alle = kommuner()
    assert len(alle) == 357
    assert len({k.fylkesnummer for k in alle.values()}) == 15
    assert alle["0301"].navn == "Oslo"  # the only leading zero left
    assert alle["3201"].navn == "Bærum" and alle["4601"].navn == "Bergen"
    assert "0219" not in alle  # Bærum's pre-2020 number
    assert all(len(n) == 4 and n.isdigit() for n in alle)


def test_same_seed_same_bytes() -> None:
    def sample(seed: int) -> list[str]:
        data = SyntheticData(seed)
        person = data.saksbehandler(kommuner()["5001"])
        return [
            data.innsendingsreferanse(),
            data.ftbid(),
            data.uuid(),
            data.organisasjonsnummer(),
            data.fodselsnummer(),
            person.navn,
            person.epost or "",
            data.kommune().nummer,
        ]

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)
    assert sample(7)[6].endswith("@trondheim.kommune.invalid")
