"""Field types: how each kind of catalog field is read from a form, checked and shown back.

A field type turns the raw inputs of a POST into the value to store (str, int, bool, list, dict or
a list of dicts) plus Japanese error messages keyed by input path, and keeps what the person typed
for redisplay, so nothing is lost on an error. Input paths are dotted: `phone`, `address.block`,
`children.0.name.kana`; the HTML id is the path with dots as dashes, prefixed `f-`.

Composite types (address, person, bank account) and repeatable groups work without JavaScript:
buttons post an `_action` (`lookup:address`, `add:children`, `remove:children:1`) that the engine
applies to the raw values before showing the page again. Side effects — storing an upload,
encrypting a My Number — go through the `FieldContext` the engine passes in.

The package: `base` (what every type shares, and `FieldSpec`, what a type reads of a catalog
field), `simple` (one input each) and `composite` (parts and repeatable items); `FIELD_TYPES`
maps each catalog type name to its type.
"""

from __future__ import annotations

from portal.catalog.fields.base import (
    FieldContext,
    FieldSpec,
    FieldType,
    OptionSpec,
    Parsed,
    html_id,
)
from portal.catalog.fields.composite import (
    ACCOUNT_TYPES,
    AddressType,
    BankAccountType,
    GroupType,
    Part,
    PersonType,
    has_gaiji,
)
from portal.catalog.fields.simple import (
    CheckboxesType,
    ChoiceType,
    DateType,
    DeclarationType,
    EmailType,
    FileType,
    KanaType,
    MyNumberType,
    NumberType,
    PostalCodeType,
    RadioType,
    SelectType,
    TelType,
    TextareaType,
    TextType,
    YesNoType,
)

FIELD_TYPES: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        TextType(),
        TextareaType(),
        EmailType(),
        TelType(),
        PostalCodeType(),
        KanaType(),
        DateType(),
        NumberType(),
        SelectType(),
        RadioType(),
        YesNoType(),
        CheckboxesType(),
        DeclarationType(),
        MyNumberType(),
        FileType(),
        AddressType(),
        PersonType(),
        BankAccountType(),
        GroupType(),
    )
}

__all__ = [
    "ACCOUNT_TYPES",
    "FIELD_TYPES",
    "AddressType",
    "BankAccountType",
    "CheckboxesType",
    "ChoiceType",
    "DateType",
    "DeclarationType",
    "EmailType",
    "FieldContext",
    "FieldSpec",
    "FieldType",
    "FileType",
    "GroupType",
    "KanaType",
    "MyNumberType",
    "NumberType",
    "OptionSpec",
    "Parsed",
    "Part",
    "PersonType",
    "PostalCodeType",
    "RadioType",
    "SelectType",
    "TelType",
    "TextType",
    "TextareaType",
    "YesNoType",
    "has_gaiji",
    "html_id",
]
