"""shared.api.etag: ETags and If-Match."""

from __future__ import annotations

import pytest

from shared.api.etag import check_if_match, etag
from shared.domain.errors import PreconditionFailed


def test_etag_is_a_quoted_strong_tag() -> None:
    assert etag(1) == '"v1"'
    assert etag(42) == '"v42"'


def test_no_if_match_means_no_check() -> None:
    check_if_match(None, 3)
    check_if_match(None, None)


def test_matching_tag_passes() -> None:
    check_if_match('"v3"', 3)
    check_if_match(etag(3), 3)


@pytest.mark.parametrize("sent", ['"v2"', '"v30"', '"3"', "v3", '"V3"', "", '"v3'])
def test_stale_or_foreign_tag_is_refused(sent: str) -> None:
    with pytest.raises(PreconditionFailed):
        check_if_match(sent, 3)


def test_star_matches_any_existing_version() -> None:
    check_if_match("*", 1)
    check_if_match(" * ", 99)


@pytest.mark.parametrize("sent", ['W/"v3"', 'W/"v2"', ' W/"v3" '])
def test_a_weak_tag_never_matches(sent: str) -> None:
    """If-Match uses the strong comparison (RFC 9110 13.1.1): a weak tag matches nothing."""
    with pytest.raises(PreconditionFailed):
        check_if_match(sent, 3)


def test_a_list_of_tags_passes_when_one_matches() -> None:
    check_if_match('"v1", "v2",  "v3"', 3)
    check_if_match('W/"v3", "v3"', 3)
    with pytest.raises(PreconditionFailed):
        check_if_match('"v1", "v2"', 3)


@pytest.mark.parametrize("sent", ['"v1"', "*", 'W/"v1"', '"v1", *'])
def test_any_if_match_on_an_absent_resource_is_refused(sent: str) -> None:
    with pytest.raises(PreconditionFailed):
        check_if_match(sent, None)


def test_the_refusal_does_not_echo_the_header() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match('"attacker-controlled-text"', 3)
    assert "attacker-controlled-text" not in caught.value.detail
