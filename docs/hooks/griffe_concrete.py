"""Griffe extension: the reference shows what a reader can use.

- Each resource class (``voipstudio_async.resources.Cdrs``, ...) gets its own copy of the
  methods it inherits from the generic bases, with the type variables replaced by its
  own types: ``vs.cdrs.list()`` shows ``Page[Cdr]``, ``delete()`` ``BulkResult[None]``.
- A default that names a constant shows the constant's value (``limit: int = 100``, not
  ``DEFAULT_LIST_LIMIT``; ``RateLimit()``, not ``DEFAULT_RATE_LIMIT``), and a type alias
  that is not public shows what it stands for.
- An attribute whose value is an expression of private names (``cdrs = Cdrs(self._...)``)
  shows its type instead.
- A resource class has no constructor signature (the client builds it from its private
  requester; ``Cdrs()`` would tell a reader nothing true) and opens with the attribute
  it is reached by: ``vs.cdrs``.

Loaded by mkdocstrings (``extensions`` in mkdocs.yml); only ``voipstudio_async`` is
changed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from typing import Any

import griffe

PACKAGE = "voipstudio_async"
GENERATED = "voipstudio_history_client"
PUBLIC_MODULES = (
    "voipstudio_async",
    "voipstudio_async.types",
    "voipstudio_async.testing",
    "voipstudio_async.resources",
    "voipstudio_async.warehouse",
    "voipstudio_async.fleet",
    "voipstudio_async.storage",
    "voipstudio_async.cli",
)
_PRIVATE = re.compile(r"(?<!\w)_[A-Za-z]\w*")
# Module-level CamelCase assignments are type aliases (``DeadlineArg = float | None``).
_ALIAS_NAME = re.compile(r"[A-Z][a-z]\w*")
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]+")
_LITERAL = re.compile(r"None|True|False|-?[\d_.]+|'[^']*'|\"[^\"]*\"")
# A value shown in a signature stays short; a longer one keeps its name.
_MAX_REPR = 60


@functools.cache
def _public_names() -> set[str]:
    names: set[str] = set()
    for module in PUBLIC_MODULES:
        names |= set(importlib.import_module(module).__all__)
    return names


def _substitute(expr: Any, mapping: dict[str, Any]) -> Any:
    """``expr`` with every name in ``mapping`` replaced by its expression."""
    if isinstance(expr, griffe.ExprName):
        return mapping.get(expr.name, expr)
    if isinstance(expr, griffe.Expr) and dataclasses.is_dataclass(expr):
        changes = {}
        for field in dataclasses.fields(expr):
            value = getattr(expr, field.name)
            if field.name == "parent":
                continue
            if isinstance(value, griffe.Expr):
                changes[field.name] = _substitute(value, mapping)
            elif isinstance(value, list):
                changes[field.name] = [
                    _substitute(v, mapping) if isinstance(v, griffe.Expr) else v for v in value
                ]
        return dataclasses.replace(expr, **changes)
    return expr


def _type_parameters(cls: griffe.Class) -> list[str]:
    """The type variables a generic class takes, in order (``Generic[T]`` or ``Base[T]``)."""
    for base in cls.bases:
        if isinstance(base, griffe.ExprSubscript) and str(base.left) in ("Generic", "Protocol"):
            return [str(e) for e in _elements(base.slice)]
    for base in cls.bases:
        if isinstance(base, griffe.ExprSubscript):
            return [str(e) for e in _elements(base.slice) if re.fullmatch(r"[A-Z]\w?", str(e))]
    return []


def _elements(expr: Any) -> list[Any]:
    return list(expr.elements) if isinstance(expr, griffe.ExprTuple) else [expr]


def _bindings(cls: griffe.Class, mapping: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For ``cls`` and each generic base: its type variables bound to concrete types."""
    bound: dict[str, dict[str, Any]] = {cls.path: mapping}
    for base, resolved in zip(cls.bases, cls.resolved_bases, strict=False):
        if isinstance(base, griffe.ExprSubscript):
            args = [_substitute(a, mapping) for a in _elements(base.slice)]
            names = _type_parameters(resolved)
            inner = dict(zip(names, args, strict=False))
        else:
            inner = {}
        bound.update(_bindings(resolved, inner))
    return bound


def _copy_function(func: griffe.Function, owner: griffe.Class, mapping: dict[str, Any]) -> Any:
    parameters = griffe.Parameters(
        *(
            griffe.Parameter(
                p.name,
                annotation=_substitute(p.annotation, mapping),
                kind=p.kind,
                default=p.default,
                docstring=p.docstring,
            )
            for p in func.parameters
        )
    )
    copy = griffe.Function(
        func.name,
        lineno=func.lineno,
        endlineno=func.endlineno,
        parameters=parameters,
        returns=_substitute(func.returns, mapping),
        decorators=func.decorators,
        docstring=None,
    )
    copy.labels |= func.labels
    if func.overloads:  # ``download_many``: a typed signature per kind of destination
        copy.overloads = [_copy_function(overload, owner, mapping) for overload in func.overloads]
    if func.docstring is not None:
        copy.docstring = griffe.Docstring(
            func.docstring.value, lineno=func.docstring.lineno, parent=copy
        )
    copy.parent = owner
    return copy


def _concrete_members(cls: griffe.Class) -> None:
    """Copy the public inherited methods of a resource class, made concrete, into it."""
    bound = _bindings(cls, {})
    for name, member in list(cls.inherited_members.items()):
        if name.startswith("_") or name in cls.members:
            continue
        target = member.final_target
        if not isinstance(target, griffe.Function):
            continue
        owner = target.parent
        mapping = bound.get(owner.path, {}) if owner is not None else {}
        cls.set_member(name, _copy_function(target, cls, mapping))


def _value_of(expr: Any, obj: griffe.Object) -> str | None:
    """The repr of a default that names a module-level constant, when it is short."""
    text = str(expr)
    if not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", text) or text in ("None", "True", "False"):
        return None
    module = obj.module
    try:
        namespace = vars(importlib.import_module(module.path))
        value = eval(text, {}, namespace)
    except Exception:
        return None
    if isinstance(value, (int, float, str, bytes, tuple, frozenset)) or value is None:
        shown = repr(value)
        return shown if len(shown) <= _MAX_REPR else None
    if hasattr(value, "total_seconds"):  # a timedelta
        return repr(value).replace("datetime.", "")
    return _default_instance(value)


def _default_instance(value: Any) -> str | None:
    """``RateLimit()`` for a constant that is a public class built without arguments (a
    reader can write that; the constant's name is not importable)."""
    kind = type(value)
    if kind.__name__ not in _public_names():
        return None
    try:
        same = bool(value == kind())
    except Exception:  # a class that needs arguments, or an Enum
        return None
    return f"{kind.__name__}()" if same else None


def _fix_defaults(func: griffe.Function, public: set[str]) -> None:
    for parameter in func.parameters:
        if parameter.default is None:
            continue
        # A public constant shows its value too (``lookback: timedelta = timedelta(days=7)``):
        # the value is what a reader needs; one too long to show keeps its (linked) name.
        if str(parameter.default) in ("None", "True", "False"):
            continue
        value = _value_of(parameter.default, func)
        if value is not None:
            parameter.default = value


def _expand_aliases(func: griffe.Function, public: set[str]) -> None:
    """Replace names of type aliases that are not public by their definitions."""
    for parameter in func.parameters:
        if parameter.annotation is not None:
            parameter.annotation = _expand(parameter.annotation, func, public)
    if func.returns is not None:
        func.returns = _expand(func.returns, func, public)


def _expand(expr: Any, scope: griffe.Object, public: set[str]) -> Any:
    if not isinstance(expr, griffe.Expr):
        return expr
    mapping: dict[str, Any] = {}
    for name in expr.iterate(flat=True):
        if not isinstance(name, griffe.ExprName) or name.name in public:
            continue
        try:
            target = name.parent.module.get_member(name.name) if name.parent else None  # type: ignore[union-attr]
            if target is not None and target.is_alias:
                target = target.final_target
        except (griffe.AliasResolutionError, griffe.CyclicAliasError, KeyError, AttributeError):
            continue
        if (
            isinstance(target, (griffe.Attribute, griffe.TypeAlias))
            and target.path.startswith(PACKAGE)
            and isinstance(target.parent, griffe.Module)
            and isinstance(target.value, griffe.Expr)
            and _ALIAS_NAME.fullmatch(target.name)
        ):
            mapping[name.name] = target.value
    return _substitute(expr, mapping) if mapping else expr


def _fix_attribute(attribute: griffe.Attribute, public: set[str]) -> None:
    value = attribute.value
    if value is None:
        return
    if _CONSTANT.fullmatch(str(value)):  # a public one too (a dataclass field's default)
        shown = _value_of(value, attribute)
        if shown is not None:
            attribute.value = shown
        return
    if "instance-attribute" in attribute.labels and not _LITERAL.fullmatch(str(value)):
        # ``status_code = response.status_code`` in ``__init__``: the name of a local says
        # nothing to a reader; the type does (``self.cdrs = Cdrs(...)``: ``cdrs: Cdrs``).
        if (
            attribute.annotation is None
            and isinstance(value, griffe.ExprCall)
            and str(value.function) in public
        ):
            attribute.annotation = value.function
        attribute.value = None
        return
    if not _PRIVATE.search(str(value)):
        return
    shown = _value_of(value, attribute)
    if shown is not None:
        attribute.value = shown
        return
    if attribute.annotation is None and isinstance(value, griffe.ExprCall):
        attribute.annotation = value.function
    attribute.value = None


class ConcreteReference(griffe.Extension):
    """See the module docstring."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name == GENERATED:
            # attrs models: ``additional_properties = _attrs_field(...)`` shows its type only.
            for obj in _walk(pkg):
                if isinstance(obj, griffe.Attribute):
                    _fix_attribute(obj, set())
            return
        if pkg.name != PACKAGE:
            return
        public = _public_names()
        reached = _client_attributes(pkg)
        # Defaults and aliases first, in the modules that define them; the copies made
        # for the resource classes then carry them.
        for obj in _walk(pkg):
            if isinstance(obj, griffe.Function):
                for signature in (obj, *(obj.overloads or ())):
                    _fix_defaults(signature, public)
                    _expand_aliases(signature, public)
            elif isinstance(obj, griffe.Attribute):
                _fix_attribute(obj, public)
        resources = importlib.import_module(f"{PACKAGE}.resources")
        for name in resources.__all__:
            cls = pkg[f"resources.{name}"].final_target
            _concrete_members(cls)
            _hide_constructor(cls)
            if name in reached:
                _open_with(
                    cls,
                    f"Reached as `vs.{reached[name]}`: the namespace the "
                    f"[`VoipStudio`][{PACKAGE}.VoipStudio] client builds.",
                )


def _client_attributes(pkg: griffe.Module) -> dict[str, str]:
    """Each resource class's name -> the client attribute holding it (``Cdrs`` -> ``cdrs``)."""
    client = pkg["VoipStudio"].final_target
    found: dict[str, str] = {}
    for name, member in client.members.items():
        if member.is_alias or name.startswith("_") or not isinstance(member, griffe.Attribute):
            continue
        if isinstance(member.value, griffe.ExprCall):  # ``self.cdrs = Cdrs(...)``
            found.setdefault(str(member.value.function), name)
    return found


def _hide_constructor(cls: griffe.Class) -> None:
    """No ``__init__`` on the class or the private bases it would inherit one from, so
    mkdocstrings renders no signature (readers never construct a resource)."""
    for owner in (cls, *cls.mro()):
        if owner.path.startswith(f"{PACKAGE}.") and "__init__" in owner.members:
            owner.del_member("__init__")


def _open_with(obj: griffe.Object, paragraph: str) -> None:
    if obj.docstring is None:
        obj.docstring = griffe.Docstring(paragraph, parent=obj)
    else:
        obj.docstring.value = f"{paragraph}\n\n{obj.docstring.value}"


def _walk(obj: griffe.Object) -> Any:
    for member in list(obj.members.values()):
        if member.is_alias:
            continue
        yield member
        if isinstance(member, (griffe.Module, griffe.Class)):
            yield from _walk(member)
