"""Normalisation: visible text from HTML, Unicode folding, tokens."""

from __future__ import annotations

import unicodedata

import pytest

from bot.matching.text import fold, html_to_text, phrase_tokens, tokenize


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Les <b>FAMa</b> &amp; Wagner</p>", "Les FAMa & Wagner"),
        ("Go&iuml;ta &#233;lu", "Goïta élu"),
        ("<script>var wagner = 1;</script>Bamako", "Bamako"),
        ("<style>.goita{}</style><p>texte</p>", "texte"),
        ('<a href="https://ex.org/wagner">lien</a>', "lien"),
        ("ligne<br>suivante", "ligne suivante"),
        ("  espaces \n\t multiples ", "espaces multiples"),
        ("a < b et c > d", "a < b et c > d"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_composed_and_decomposed_forms_are_equal() -> None:
    composed = unicodedata.normalize("NFC", "Goïta")
    decomposed = unicodedata.normalize("NFD", "Goïta")
    assert composed != decomposed
    assert html_to_text(decomposed) == composed
    assert tokenize(html_to_text(decomposed)).folded == ("goita",)


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Goïta", "goita"), ("ARMÉE", "armee"), ("cœur", "coeur"), ("ﬁn", "fin"),
     ("Straße", "strasse"), ("Вагнер", "вагнер")],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


@pytest.mark.parametrize("variant", ["TB2", "TB-2", "TB 2", "tb2"])
def test_letters_and_digits_split_so_spacing_variants_agree(variant: str) -> None:
    assert tokenize(variant).folded == ("tb", "2")


def test_elision_and_curly_apostrophes_split_words() -> None:
    assert tokenize("d’Assimi l'armée").folded == ("d", "assimi", "l", "armee")


def test_tokens_keep_their_spans_in_the_original_text() -> None:
    tokens = tokenize("Le colonel Goïta, à Bamako")
    assert tokens.span_text(2, 2) == "Goïta"
    assert tokens.cased[2] == "Goita"


def test_phrase_tokens_can_keep_case() -> None:
    assert phrase_tokens("FAMa", case=True) == ("FAMa",)
    assert phrase_tokens("FAMa") == ("fama",)
