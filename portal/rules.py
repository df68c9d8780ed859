"""The portal's rule language, used in the procedure catalog for step and field conditions, fee
formulas, screening rules, suggestions and deadlines. A rule is a single expression written in a
small subset of Python syntax: literals (whole numbers, "strings", True, False, None, and list
displays such as ["post", "counter"]), names of answers (copies) and dotted names that look into
nested answers (applicant.birth_date); `and`, `or` and `not` (short-circuit, always giving True or
False); comparisons, which may be chained (1 <= copies <= 10): == != < <= > >= in, not in;
arithmetic on whole numbers with + - * // % and unary - (+ also joins two strings; there is no /,
no ** and no bit operators); the conditional form `a if condition else b`; and calls of these
functions only, with positional arguments: len(x), min(a, b, ...), max(a, b, ...), abs(x),
today() (the date supplied by the caller), date("YYYY-MM-DD"), days_between(a, b) (days from a to
b, negative if b is earlier), add_days(d, n), years_between(a, b) (full years from a to b, counted
like an age), contains_any(collection, values) and open_day(d) (whether the city offices are open
on d: not a Saturday, Sunday, national holiday or 29 December to 3 January; the caller supplies
the calendar). Everything else (attribute access on anything but a name, subscripts, lambdas,
comprehensions, f-strings, keyword arguments, names starting with
"_", unknown functions) is rejected when the catalog is loaded. A name that has no answer (an
unanswered or hidden field) is None: == and != treat None as an ordinary value, an ordering
comparison (< <= > >=) involving None is False, `x in None` is False (so `x not in None` is True),
arithmetic on None is an error, len(None) is 0, contains_any with a None argument is False, and
every other function given None returns None (so `years_between(birth_date, today()) >= 18` is
simply False while birth_date is unanswered). True and False are not numbers in arithmetic.
"""

from __future__ import annotations

import ast
import datetime
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Rule", "RuleError", "RuleEvaluationError", "compile_rule"]

MAX_SOURCE_LENGTH = 500  # characters in a rule
MAX_NODES = 200  # expression nodes in a rule
MAX_LITERAL = 10**12  # largest whole-number literal
MAX_RESULT = 10**15  # largest whole number produced while evaluating
MAX_STRING = 1000  # longest string produced by +


class RuleError(ValueError):
    """A rule is invalid; raised by compile_rule(), i.e. when the catalog is loaded."""


class RuleEvaluationError(RuleError):
    """A valid rule could not be evaluated against the given answers."""


# Allowed operators, with their symbol (for messages) and implementation.
_BIN_OPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
}
_COMPARE_OPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", operator.contains),
    ast.NotIn: ("not in", operator.contains),
}
_UNARY_OPS: dict[type, str] = {ast.Not: "not", ast.USub: "-"}
# Forbidden operators, only so that messages can name them.
_OTHER_OPS = {
    ast.Div: "/",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
    ast.Invert: "~",
    ast.UAdd: "unary +",
    ast.Is: "is",
    ast.IsNot: "is not",
}
# Names for forbidden kinds of expression, used in messages.
_NODE_NAMES = {
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Subscript: "subscript",
    ast.Slice: "slice",
    ast.Dict: "dict display",
    ast.Set: "set display",
    ast.Starred: "starred expression",
    ast.NamedExpr: "assignment expression ':='",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- Compile time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A validated rule; create it with compile_rule()."""

    source: str
    names: frozenset[str]  # every (dotted) name the rule reads
    _node: ast.expr = field(repr=False, compare=False)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate against answers; context["__today__"] is the date returned by today()."""
        return _evaluate(self._node, context)

    def is_true(self, context: Mapping[str, Any]) -> bool:
        """Evaluate and coerce: None, False, 0, "" and [] are false."""
        return bool(self.evaluate(context))


def compile_rule(source: str, *, names: Iterable[str] | None = None) -> Rule:
    """Parse and validate a rule. If names is given, every name the rule reads must be in it
    (a dotted name is also allowed by an entry "first.*"). Raises RuleError."""
    if not isinstance(source, str):
        raise RuleError(f"rule must be a string, not {type(source).__name__}")
    if isinstance(names, str):
        raise TypeError("names must be a collection of names, not a single string")
    text = source.strip()
    if not text:
        raise RuleError("rule is empty")
    if len(text) > MAX_SOURCE_LENGTH:
        raise RuleError(f"rule is too long ({len(text)} characters, limit {MAX_SOURCE_LENGTH})")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"syntax error at column {exc.offset} in {text!r}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # e.g. a null character
        raise RuleError(f"cannot parse {text!r}: {exc}") from None
    count = sum(1 for node in ast.walk(tree) if isinstance(node, ast.expr))
    if count > MAX_NODES:
        raise RuleError(f"rule is too complex ({count} parts, limit {MAX_NODES}) in {text!r}")
    allowed = None if names is None else frozenset(names)
    found: set[str] = set()
    _validate(tree.body, text, allowed, found)
    return Rule(source=source, names=frozenset(found), _node=tree.body)


def _error(node: ast.AST, source: str, message: str) -> RuleError:
    column = getattr(node, "col_offset", 0) + 1
    return RuleError(f"{message} at column {column} in {source!r}")


def _dotted_name(node: ast.expr) -> str | None:
    """The dotted name ("a.b.c") of a Name or attribute chain on a Name, otherwise None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _validate(node: ast.expr, source: str, allowed: frozenset[str] | None, found: set[str]) -> None:
    """Reject anything outside the language; collect the names read into found."""

    def check(child: ast.expr) -> None:
        _validate(child, source, allowed, found)

    def check_op(op: ast.AST, permitted: Mapping[type, Any]) -> None:
        if type(op) not in permitted:
            symbol = _OTHER_OPS.get(type(op), type(op).__name__)
            raise _error(node, source, f"operator '{symbol}' is not allowed")

    if isinstance(node, ast.Constant):
        value = node.value
        if value is not None and not isinstance(value, (bool, int, str)):
            raise _error(
                node,
                source,
                f"literal {value!r} is not allowed "
                "(only whole numbers, strings, True, False and None)",
            )
        if isinstance(value, int) and abs(value) > MAX_LITERAL:
            raise _error(node, source, f"number {value} is too large (limit 10**12)")
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            check(element)
    elif isinstance(node, (ast.Name, ast.Attribute)):
        name = _dotted_name(node)
        if name is None:
            raise _error(node, source, "attribute access is only allowed on names")
        _check_name(node, source, name)
        if allowed is not None and name not in allowed and f"{name.split('.')[0]}.*" not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise _error(node, source, f"unknown name '{name}' (known: {known})")
        found.add(name)
    elif isinstance(node, ast.BoolOp):
        for operand in node.values:
            check(operand)
    elif isinstance(node, ast.UnaryOp):
        check_op(node.op, _UNARY_OPS)
        check(node.operand)
    elif isinstance(node, ast.BinOp):
        check_op(node.op, _BIN_OPS)
        check(node.left)
        check(node.right)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            check_op(op, _COMPARE_OPS)
        check(node.left)
        for comparator in node.comparators:
            check(comparator)
    elif isinstance(node, ast.IfExp):
        check(node.test)
        check(node.body)
        check(node.orelse)
    elif isinstance(node, ast.Call):
        _validate_call(node, source)
        for argument in node.args:
            check(argument)
    else:
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        raise _error(node, source, f"{what} is not allowed")


def _check_name(node: ast.expr, source: str, name: str) -> None:
    for part in name.split("."):
        if part.startswith("_"):
            raise _error(
                node, source, f"name '{part}' is not allowed (names must not start with '_')"
            )


def _validate_call(node: ast.Call, source: str) -> None:
    if not isinstance(node.func, ast.Name):
        raise _error(node, source, "only calls of functions by name are allowed")
    name = node.func.id
    _check_name(node, source, name)
    if name not in _FUNCTIONS:
        known = ", ".join(sorted(_FUNCTIONS))
        raise _error(node, source, f"unknown function '{name}' (known: {known})")
    if node.keywords:
        raise _error(node, source, f"keyword arguments are not allowed in {name}()")
    if any(isinstance(argument, ast.Starred) for argument in node.args):
        raise _error(node, source, f"starred arguments are not allowed in {name}()")
    low, high = _FUNCTIONS[name][:2]
    count = len(node.args)
    if count < low or (high is not None and count > high):
        expected = f"exactly {low}" if low == high else f"at least {low}"
        plural = "" if low == 1 else "s"
        raise _error(node, source, f"{name}() takes {expected} argument{plural}, got {count}")


# --- Run time -----------------------------------------------------------------------------------


def _evaluate(node: ast.expr, context: Mapping[str, Any]) -> Any:
    """Evaluate a validated expression node."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(element, context) for element in node.elts]
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _lookup(context, _dotted_name(node) or "")
    if isinstance(node, ast.BoolOp):
        stop = isinstance(node.op, ast.Or)  # `or` stops at the first true value, `and` at false
        for value in node.values:
            if bool(_evaluate(value, context)) is stop:
                return stop
        return not stop
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, context)
        if isinstance(node.op, ast.Not):
            return not operand
        return _checked(-_operand(operand, node.operand, "-"))
    if isinstance(node, ast.BinOp):
        return _arithmetic(node, _evaluate(node.left, context), _evaluate(node.right, context))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, context)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, context)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        chosen = node.body if bool(_evaluate(node.test, context)) else node.orelse
        return _evaluate(chosen, context)
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]  # validated: a Name
        arguments = [_evaluate(argument, context) for argument in node.args]
        if name not in ("len", "contains_any") and any(a is None for a in arguments):
            return None  # a missing argument gives a missing result
        return _FUNCTIONS[name][2](arguments, context)
    raise RuleEvaluationError(f"unsupported expression {type(node).__name__}")  # not reached


def _lookup(context: Mapping[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _checked(number: int) -> int:
    if abs(number) > MAX_RESULT:
        raise RuleEvaluationError("number is too large (limit 10**15)")
    return number


def _operand(value: Any, node: ast.expr, symbol: str) -> int:
    if value is None:
        raise RuleEvaluationError(f"cannot compute '{symbol}': '{ast.unparse(node)}' has no value")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleEvaluationError(
            f"cannot compute '{symbol}': '{ast.unparse(node)}' is "
            f"{type(value).__name__}, not a whole number"
        )
    return value


def _arithmetic(node: ast.BinOp, left: Any, right: Any) -> Any:
    symbol, function = _BIN_OPS[type(node.op)]
    if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_STRING:
            raise RuleEvaluationError(f"string is too long (limit {MAX_STRING} characters)")
        return left + right
    a, b = _operand(left, node.left, symbol), _operand(right, node.right, symbol)
    if symbol in ("//", "%") and b == 0:
        raise RuleEvaluationError(f"division by zero in '{ast.unparse(node)}'")
    return _checked(function(a, b))


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    symbol, function = _COMPARE_OPS[type(op)]
    if symbol in ("==", "!="):
        return function(left, right)
    if symbol in ("in", "not in"):
        if right is None:
            found = False
        elif (isinstance(right, str) and isinstance(left, str)) or isinstance(right, (list, tuple)):
            found = left in right
        else:
            raise RuleEvaluationError(
                f"'{symbol}' needs a list (or a string on both sides), "
                f"got {type(left).__name__} {symbol} {type(right).__name__}"
            )
        return found if symbol == "in" else not found
    if left is None or right is None:
        return False
    if type(left) is not type(right) or not isinstance(left, (int, str, datetime.date)):
        raise RuleEvaluationError(
            f"cannot compare {type(left).__name__} with {type(right).__name__} using '{symbol}'"
        )
    return function(left, right)


# --- Functions: each takes the evaluated arguments and the context ------------------------------


def _to_date(value: Any, function: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise RuleEvaluationError(
        f"{function}() needs a date or a 'YYYY-MM-DD' string, got {repr(value)[:40]}"
    )


def _to_int(value: Any, function: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleEvaluationError(f"{function}() needs a whole number, got {type(value).__name__}")
    return value


def _same_kind(values: list[Any], function: str) -> list[Any]:
    first = values[0]
    if (
        isinstance(first, bool)
        or not isinstance(first, (int, str, datetime.date))
        or any(type(value) is not type(first) for value in values)
    ):
        raise RuleEvaluationError(
            f"{function}() needs values of one kind (whole numbers, strings or dates)"
        )
    return values


def _fn_len(args: list[Any], context: Mapping[str, Any]) -> int:
    if args[0] is None:
        return 0
    if not isinstance(args[0], (str, list, tuple)):
        raise RuleEvaluationError(f"len() needs a string or a list, got {type(args[0]).__name__}")
    return len(args[0])


def _fn_today(args: list[Any], context: Mapping[str, Any]) -> datetime.date:
    today = context.get("__today__")
    if not isinstance(today, datetime.date):
        raise RuleEvaluationError("today() needs a date as '__today__' in the context")
    return _to_date(today, "today")


def _fn_open_day(args: list[Any], context: Mapping[str, Any]) -> bool:
    """Whether the offices are open on a day: the caller supplies the calendar as
    '__office_closed__' (a function of a date), so that this module needs no holiday data."""
    closed = context.get("__office_closed__")
    if not callable(closed):
        raise RuleEvaluationError("open_day() needs '__office_closed__' in the context")
    return not closed(_to_date(args[0], "open_day"))


def _fn_years_between(args: list[Any], context: Mapping[str, Any]) -> int:
    start, end = _to_date(args[0], "years_between"), _to_date(args[1], "years_between")
    if end < start:
        return -_fn_years_between([end, start], context)
    birthday_not_reached = (end.month, end.day) < (start.month, start.day)
    return end.year - start.year - birthday_not_reached


def _fn_add_days(args: list[Any], context: Mapping[str, Any]) -> datetime.date:
    start, days = _to_date(args[0], "add_days"), _to_int(args[1], "add_days")
    try:
        return start + datetime.timedelta(days=days)
    except OverflowError:
        raise RuleEvaluationError("add_days() result is out of range") from None


def _fn_contains_any(args: list[Any], context: Mapping[str, Any]) -> bool:
    collection, values = args
    if collection is None or values is None:
        return False
    if not isinstance(collection, (list, tuple)) or not isinstance(values, (list, tuple)):
        raise RuleEvaluationError("contains_any() needs two lists")
    return any(value in collection for value in values)


# name -> (minimum arguments, maximum arguments or None for any number, implementation)
_FUNCTIONS: dict[str, tuple[int, int | None, Callable[[list[Any], Mapping[str, Any]], Any]]] = {
    "len": (1, 1, _fn_len),
    "min": (1, None, lambda args, context: min(_same_kind(args, "min"))),
    "max": (1, None, lambda args, context: max(_same_kind(args, "max"))),
    "abs": (1, 1, lambda args, context: _checked(abs(_to_int(args[0], "abs")))),
    "today": (0, 0, _fn_today),
    "date": (1, 1, lambda args, context: _to_date(args[0], "date")),
    "days_between": (
        2,
        2,
        lambda args, context: (
            (_to_date(args[1], "days_between") - _to_date(args[0], "days_between")).days
        ),
    ),
    "add_days": (2, 2, _fn_add_days),
    "years_between": (2, 2, _fn_years_between),
    "contains_any": (2, 2, _fn_contains_any),
    # whether the city offices are open that day (not a weekend, holiday or 12/29-1/3)
    "open_day": (1, 1, _fn_open_day),
}
