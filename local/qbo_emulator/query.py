"""QBO's query language: `select * from Customer where DisplayName = 'Jane O\\'Neil'`.

Only what Intuit documents: AND (no OR), =, <, >, <=, >=, IN, LIKE, ORDERBY, STARTPOSITION,
MAXRESULTS, count(*). Filtering on a field QBO does not index is an error there, so it is here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from . import faults
from .jsonio import Json

Literal = str | Decimal | bool

DEFAULT_PAGE = 100  # QBO returns 100 rows when MAXRESULTS is not given
MAX_PAGE = 1000

_META = {"id", "metadata.createtime", "metadata.lastupdatedtime"}
_NAMES = {
    "displayname",
    "givenname",
    "familyname",
    "middlename",
    "companyname",
    "fullyqualifiedname",
    "active",
    "balance",
    "primaryemailaddr",
}
FILTERABLE: dict[str, set[str]] = {
    "Customer": _META | _NAMES | {"job", "parentref", "title", "suffix", "printoncheckname"},
    "Vendor": _META | _NAMES,
    "Employee": _META | _NAMES,
    "Item": _META | {"name", "active", "type", "sku", "fullyqualifiedname", "parentref"},
    "Account": _META
    | {
        "name",
        "active",
        "accounttype",
        "accountsubtype",
        "classification",
        "fullyqualifiedname",
        "currentbalance",
        "subaccount",
        "parentref",
    },
    "Invoice": _META | {"docnumber", "txndate", "duedate", "customerref", "balance", "totalamt"},
    "Payment": _META | {"txndate", "customerref", "totalamt"},
    "CompanyInfo": _META | {"companyname"},
    "Deposit": _META | {"txndate", "totalamt"},
    "RefundReceipt": _META | {"docnumber", "txndate", "customerref", "totalamt"},
    "Term": _META | {"name", "active"},
    "PaymentMethod": _META | {"name", "active", "type"},
    "TaxCode": _META | {"name", "active", "taxable", "taxgroup"},
    "TaxRate": _META | {"name", "active"},
}
# QBO compares names and document numbers without regard to case.
CASELESS = {
    "displayname",
    "name",
    "docnumber",
    "fullyqualifiedname",
    "companyname",
    "givenname",
    "familyname",
    "middlename",
    "primaryemailaddr",
}
NAME_LISTS = {"Customer", "Vendor", "Employee", "Item", "Account", "Term", "TaxCode", "TaxRate"}
NAME_LISTS |= {"PaymentMethod"}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
     |(?P<number>-?\d+(?:\.\d+)?)
     |(?P<op><=|>=|!=|<>|=|<|>)
     |(?P<punct>[(),*])
     |(?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass
class Condition:
    field: str
    op: str
    values: list[Literal]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] | None = None
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    start: int = 1
    max_results: int = DEFAULT_PAGE


@dataclass
class _Token:
    kind: str
    text: str

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            near = text[pos:].strip()[:20]
            raise faults.query_parse(f'Encountered " {near} " at column {pos + 1}')
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise faults.query_parse(f"Encountered end of statement. Was expecting {expected}")
        self.pos += 1
        return token

    def keyword(self, word: str) -> None:
        token = self.next(word.upper())
        if token.word != word:
            raise faults.query_parse(f'Encountered "{token.text}". Was expecting {word.upper()}')

    def accept(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.word == word:
            self.pos += 1
            return True
        return False

    def punct(self, char: str) -> None:
        token = self.next(char)
        if token.text != char:
            raise faults.query_parse(f'Encountered "{token.text}". Was expecting "{char}"')

    def name(self) -> str:
        token = self.next("a name")
        if token.kind != "word":
            raise faults.query_parse(f'Encountered "{token.text}". Was expecting a name')
        return token.text

    def literal(self) -> Literal:
        token = self.next("a value")
        if token.kind == "string":
            return _unescape(token.text)
        if token.kind == "number":
            return Decimal(token.text)
        if token.word in ("true", "false"):
            return token.word == "true"
        raise faults.query_parse(f'Encountered "{token.text}". Was expecting a value')

    def integer(self) -> int:
        value = self.literal()
        if not isinstance(value, Decimal) or value != value.to_integral_value():
            raise faults.query_parse(f"Was expecting an integer, got {value}")
        return int(value)


def parse(text: str) -> Query:
    p = _Parser(text)
    p.keyword("select")
    count, fields = _projection(p)
    p.keyword("from")
    query = Query(entity=p.name(), count=count, fields=fields)
    if p.accept("where"):
        query.where.append(_condition(p))
        while p.accept("and"):
            query.where.append(_condition(p))
    _tail(p, query)
    return query


def _projection(p: _Parser) -> tuple[bool, list[str] | None]:
    token = p.peek()
    if token is not None and token.text == "*":
        p.pos += 1
        # `SELECT *, Sku FROM Item` (python-quickbooks' Item.all() since 0.9.12): the star
        # already holds every property, so the named ones add nothing.
        while p.peek() is not None and p.tokens[p.pos].text == ",":
            p.pos += 1
            p.name()
        return False, None
    if token is not None and token.word == "count":
        p.pos += 1
        p.punct("(")
        p.punct("*")
        p.punct(")")
        return True, None
    fields = [p.name()]
    while p.peek() is not None and p.tokens[p.pos].text == ",":
        p.pos += 1
        fields.append(p.name())
    return False, fields


def _condition(p: _Parser) -> Condition:
    name = p.name()
    token = p.next("an operator")
    if token.word == "in":
        p.punct("(")
        values = [p.literal()]
        while p.peek() is not None and p.tokens[p.pos].text == ",":
            p.pos += 1
            values.append(p.literal())
        p.punct(")")
        return Condition(name, "in", values)
    if token.word == "like":
        return Condition(name, "like", [p.literal()])
    if token.kind == "op" and token.text not in ("!=", "<>"):
        return Condition(name, token.text, [p.literal()])
    raise faults.query_parse(f'Encountered "{token.text}". Was expecting an operator')


def _tail(p: _Parser, query: Query) -> None:
    while (token := p.peek()) is not None:
        p.pos += 1
        if token.word == "orderby":
            query.order.append(_order_key(p))
            while p.peek() is not None and p.tokens[p.pos].text == ",":
                p.pos += 1
                query.order.append(_order_key(p))
        elif token.word == "startposition":
            query.start = max(1, p.integer())
        elif token.word == "maxresults":
            query.max_results = min(MAX_PAGE, max(1, p.integer()))
        else:
            raise faults.query_parse(f'Encountered "{token.text}"')


def _order_key(p: _Parser) -> tuple[str, bool]:
    name = p.name()
    if p.accept("desc"):
        return name, True
    p.accept("asc")
    return name, False


# --- execution -------------------------------------------------------------------------


def resolve(row: Json, path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key is not None else None
    if isinstance(value, dict):
        # A reference compares by its id, an email by its address.
        return value.get("value", value.get("Address"))
    return value


def _coerce(actual: Any, literal: Literal, caseless: bool) -> tuple[Any, Any] | None:
    if isinstance(actual, bool):
        if isinstance(literal, str) and literal.lower() in ("true", "false"):
            literal = literal.lower() == "true"
        return (actual, literal) if isinstance(literal, bool) else None
    if isinstance(actual, Decimal | int):
        try:
            return Decimal(actual), Decimal(str(literal))
        except InvalidOperation:
            return None
    if isinstance(actual, str) and not isinstance(literal, bool):
        text = str(literal)
        return (actual.lower(), text.lower()) if caseless else (actual, text)
    return None


def _compare(actual: Any, op: str, literal: Literal, caseless: bool) -> bool:
    pair = _coerce(actual, literal, caseless)
    if pair is None:
        return False
    left, right = pair
    if op == "like":
        pattern = "^" + ".*".join(re.escape(part) for part in str(right).split("%")) + "$"
        return re.match(pattern, str(left), re.IGNORECASE | re.DOTALL) is not None
    if op in ("=", "in"):
        return bool(left == right)
    try:
        return bool(
            {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
        )
    except TypeError:
        return False


def _matches(row: Json, condition: Condition) -> bool:
    actual = resolve(row, condition.field)
    caseless = condition.field.lower() in CASELESS
    return any(_compare(actual, condition.op, value, caseless) for value in condition.values)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (2, value)


def check(query: Query, entity: str) -> None:
    allowed = FILTERABLE.get(entity, _META)
    for condition in query.where:
        if condition.field.lower() not in allowed:
            raise faults.query_invalid(f"property '{condition.field}' is not queryable")


def execute(query: Query, entity: str, rows: list[Json]) -> Json:
    check(query, entity)
    conditions = list(query.where)
    if entity in NAME_LISTS and not any(c.field.lower() == "active" for c in conditions):
        # Name lists hide inactive records unless the query asks about Active.
        conditions.append(Condition("Active", "=", [True]))
    selected = [row for row in rows if all(_matches(row, c) for c in conditions)]
    selected.sort(key=lambda row: int(row["Id"]) if str(row["Id"]).isdigit() else 0)
    for name, descending in reversed(query.order):
        selected.sort(key=_order_by(name), reverse=descending)
    if query.count:
        return {"totalCount": len(selected)}
    page = selected[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields is not None:
        page = [_project(row, query.fields) for row in page]
    return {entity: page, "startPosition": query.start, "maxResults": len(page)}


def _order_by(name: str) -> Callable[[Json], tuple[int, Any]]:
    return lambda row: _sort_key(resolve(row, name))


def _project(row: Json, fields: list[str]) -> Json:
    wanted = {f.lower() for f in fields} | {"id"}
    projected = {k: v for k, v in row.items() if k.lower() in wanted}
    projected.update({"domain": row.get("domain", "QBO"), "sparse": True})
    return projected
