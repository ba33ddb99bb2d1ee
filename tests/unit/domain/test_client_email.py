"""The one spelling of a client's email: what is folded together (case, width, punycode) and what is not."""

from __future__ import annotations

import idna
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from blockhours.adapters.stripe_keys import client_of
from blockhours.domain.client_email import InvalidEmail, client_email

LOCAL = st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]|\.(?=[a-z0-9])){0,20}", fullmatch=True)
# "--" in the 3rd and 4th places is reserved for IDNA's own labels (xn--): no real domain has one to type
ASCII_LABEL = st.from_regex(r"[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
UNICODE_LABEL = st.sampled_from(["bücher", "münchen", "ökonomie-shop", "日本語", "ελληνικά", "пример", "café"])
DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(ASCII_LABEL | UNICODE_LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "example", "org", "shop"]),
)


def fullwidth(text: str) -> str:
    """The same text as a phone's Japanese keyboard may type it: ASCII letters and digits in full width."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "@" else c for c in text)


def punycode(domain: str) -> str:
    return idna.encode(domain, uts46=True).decode("ascii")


def spellings(local: str, domain: str) -> list[str]:
    plain = f"{local}@{domain}"
    return [
        plain,
        plain.upper(),
        plain.title(),
        f"  {plain}\t",
        fullwidth(plain),
        f"{local}@{punycode(domain)}",
        f"{fullwidth(local.upper())}@{punycode(domain).upper()}",
    ]


@given(LOCAL, DOMAIN)
def test_case_width_spacing_and_punycode_spell_one_client(local: str, domain: str) -> None:
    assert {client_email(spelling) for spelling in spellings(local, domain)} == {f"{local}@{punycode(domain)}"}


@given(st.emails() | st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN), st.data())
def test_the_spelling_is_its_own_spelling(address: str, data: st.DataObject) -> None:
    variant = data.draw(st.sampled_from([address, address.upper(), fullwidth(address), f" {address} "]))
    try:
        once = client_email(variant)
    except InvalidEmail:
        assume(False)
        raise
    assert client_email(once) == once
    assert once == once.strip() and once.split("@")[1].isascii()


@given(LOCAL, LOCAL, DOMAIN)
def test_different_local_parts_are_different_clients(one: str, other: str, domain: str) -> None:
    assume(one != other)
    assert client_email(f"{one}@{domain}") != client_email(f"{other}@{domain}")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ana@example.com", "an.a@example.com"),
        ("ana@example.com", "ana+shop@example.com"),
        ("ana@example.com", "ana@example.org"),
        ("ana@bücher.example", "ana@bucher.example"),
        ("ana@straße.example", "ana@strasse.example"),  # IDNA 2008 keeps ß: its upper case STRASSE is another domain
    ],
)
def test_dots_tags_and_accents_are_not_folded(one: str, other: str) -> None:
    assert client_email(one) != client_email(other)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Ana@Example.com", "ana@example.com"),
        ("  ana@example.com\t\n", "ana@example.com"),  # pasted with the spaces around it
        ("Ａｎａ@Ｅｘａｍｐｌｅ.com", "ana@example.com"),  # noqa: RUF001 - the fullwidth letters are the point
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
        ("ANA@XN--BCHER-KVA.EXAMPLE", "ana@xn--bcher-kva.example"),
        ("zoë@example.com", "zoë@example.com"),
    ],
)
def test_examples(address: str, key: str) -> None:
    assert client_email(address) == key


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("", "must have an @-sign"),
        ("no-at-sign", "must have an @-sign"),
        ("ana@localhost", "should have a period"),
        ("ana@example.invalid", "special-use"),
        ("a" * 250 + "@example.com", "too long"),
        ("Ana <ana@example.com>", "display name"),
        ("a\x00@example.com", "U+0000"),
    ],
)
def test_what_cannot_be_an_address_is_refused_in_words(address: str, says: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        client_email(address)
    assert refused.value.code == "invalid_email"
    assert "is not an email address" in refused.value.message and says in refused.value.message
    assert "\x00" not in refused.value.message


def test_stripe_idempotency_keys_name_the_client_by_the_same_spelling() -> None:
    spellings = ["Ana@Example.com", " ana@example.com ", "Ａｎａ@Ｅｘａｍｐｌｅ.com"]  # noqa: RUF001 - fullwidth on purpose

    assert {client_of(spelling) for spelling in spellings} == {client_of("ana@example.com")}
    assert client_of("ana@example.com") != client_of("an.a@example.com")
