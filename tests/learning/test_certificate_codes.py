"""Certificate codes: made one at a time when a course is completed, or many at once by the bulk
loads; either way 160 random bits written in 27 URL-safe characters."""

import itertools
import re

from lectern.certificates.service import CODES_PER_DRAW, new_code, new_codes

CODE = re.compile(r"[A-Za-z0-9_-]{27}")


def test_a_code_made_alone_and_codes_made_in_bulk_look_alike() -> None:
    alone = new_code()
    bulk = list(itertools.islice(new_codes(), 3 * CODES_PER_DRAW + 1))
    assert CODE.fullmatch(alone)
    assert all(CODE.fullmatch(code) for code in bulk)
    # Across draws of the random source too, no code comes twice.
    assert len(set(bulk)) == len(bulk)


def test_two_bulk_loads_draw_different_codes() -> None:
    first = set(itertools.islice(new_codes(), 100))
    second = set(itertools.islice(new_codes(), 100))
    assert not first & second
