"""The command line's grammar: argparse with one-line refusals, the types of its flags, and a flag given twice
with two values refused (argparse would keep the last one silently)."""

from __future__ import annotations

import argparse

__all__ = [
    "NON_NEGATIVE",
    "POSITIVE",
    "Parser",
    "empty_value",
    "fraction",
    "idle_option",
    "int_at_least",
    "positive_float",
    "repeated_option",
    "seed",
]


def int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below the smallest allowed value, {low}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


positive_float.__name__ = "positive number"


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction in [0, 1), e.g. 0.001")
    return value


POSITIVE, NON_NEGATIVE = int_at_least(1), int_at_least(0)


def seed(text: str) -> int:
    """A random seed, as numpy, TensorFlow and scikit-learn take it: a whole number in [0, 2**32 - 1]."""
    value = NON_NEGATIVE(text)
    if value > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"{value} is above the largest seed, 2**32 - 1 = {2**32 - 1}")
    return value


seed.__name__ = "seed"


class Parser(argparse.ArgumentParser):
    """argparse, with a refused flag said in one line (the usage is one ``--help`` away), exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: Actions that may be given more than once (each adds to the last), or whose repetition changes nothing.
_REPEATABLE = (
    argparse._AppendAction,
    argparse._CountAction,
    argparse._StoreConstAction,
    argparse._HelpAction,
)


def _options(parser: argparse.ArgumentParser, argv: list[str]):
    """``(verb, action, option as written, value)`` for each option of ``argv``, following the sub-commands it
    chooses (``verb``: "rtl", "data generate")."""
    verb: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok == "--":
            return
        if tok.startswith("-") and len(tok) > 1:
            name, eq, value = tok.partition("=")
            action = parser._option_string_actions.get(name)
            if action is None:
                continue
            if not eq and action.nargs != 0:
                n = action.nargs if isinstance(action.nargs, int) else 1
                value, i = " ".join(argv[i : i + n]), i + n
            yield " ".join(verb), action, name, value
            continue
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and tok in subs[0].choices:
            parser = subs[0].choices[tok]
            verb.append(tok)


def repeated_option(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first option of ``argv`` given twice with different values (``--max-drop 0.01 --max-drop 0.02``),
    as a one-line refusal, or ``None``. Follows the sub-commands ``argv`` chooses."""
    seen: dict[tuple[str, str], str] = {}
    for verb, action, name, value in _options(parser, argv):
        if isinstance(action, _REPEATABLE):
            continue
        if (verb, action.dest) in seen and seen[verb, action.dest] != value:
            return f"{name} is given twice ({seen[verb, action.dest]} and {value}), and only one can hold: give it once"
        seen[verb, action.dest] = value
    return None


def idle_option(
    parser: argparse.ArgumentParser, argv: list[str], rules: dict[str, list[tuple[str, str, bool]]]
) -> str | None:
    """The first option of ``argv`` that would do nothing, as a one-line refusal, or ``None``. ``rules[verb]``
    lists ``(flag, other, beside)``: ``flag`` does nothing beside ``other`` (``beside``) or without it."""
    given: dict[str, set[str]] = {}
    for verb, action, _, _ in _options(parser, argv):
        given.setdefault(verb, set()).update(action.option_strings)
    for verb, flags in given.items():
        for flag, other, beside in rules.get(verb, []):
            if flag in flags and (other in flags) == beside:
                return f"{flag} does nothing {'beside' if beside else 'without'} {other}: " + (
                    f"drop {flag} or {other}" if beside else f"add {other}, or drop {flag}"
                )
    return None


def empty_value(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first option of ``argv`` given an empty value (``--out ""``: argparse would take it as the working
    directory or the default), or an empty positional, as a one-line refusal, or ``None``."""
    for _, action, name, value in _options(parser, argv):
        if action.nargs != 0 and value.strip() == "":
            return f"{name} is given an empty value: pass one, or drop {name}"
    if any(tok.strip() == "" for tok in argv):
        return 'an argument is empty (""): pass a value, or drop it'
    return None
