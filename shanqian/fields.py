"""
Model fields for personal data encrypted at rest (SPEC §13), built on ``shanqian.fieldcrypt``.

* ``EncryptedCharField(verbose_name, max_length=…, purpose=…)`` — the attribute is the plain text
  (``employee.id_number`` reads and assigns as before, ``values()`` returns plain text too); the
  column holds an AES-GCM envelope (``e1:<key id>:…``) in a ``text`` column. ``max_length``
  validates the plain text. Nothing can be looked up by value — the ciphertext is randomised —
  so every lookup but ``isnull`` raises ``FieldError`` pointing at the blind index.
* ``BlindIndexField(verbose_name, source=…, purpose=…)`` — a 64-hex column holding
  ``fieldcrypt.blind_index(<source value>)``, kept in step by ``pre_save`` on ``save()`` and
  ``bulk_create()``; ``None`` when the source is empty (so a unique index allows many). Saving the
  source with ``update_fields`` but without the index is refused, since the index would go stale.
  ``queryset.update()`` and ``bulk_update()`` bypass ``pre_save``: pass both columns yourself.
  ``BlindIndexField.lookup_value(value)`` is what to filter by.

Encrypted fields are found by ``encrypted_fields()`` (``manage.py reencrypt_fields`` and the system
checks use it), so a new one needs no registration.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.signals import pre_save

from . import fieldcrypt


class EncryptedCharField(models.CharField):
    description = "加密存储的文本（AES-GCM）"

    def __init__(self, *args, purpose: str, **kwargs):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def get_internal_type(self):
        # A text column: the envelope is longer than the plain value, and is never indexed.
        return "TextField"

    def db_type(self, connection):
        return connection.data_types["TextField"]

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return fieldcrypt.decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return fieldcrypt.encrypt(value, purpose=self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} 已加密存储，不能按值查询（{lookup_name}）；"
            "请通过盲索引查找（例如 Employee.objects.by_id_number()）。"
        )

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.model.__name__}.{self.name} 已加密存储，不支持 {lookup_name}。")


class BlindIndexField(models.CharField):
    description = "盲索引（HMAC-SHA256）"

    def __init__(self, *args, source: str, purpose: str, **kwargs):
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose)
        for key, default in (("max_length", 64), ("null", True), ("blank", True), ("editable", False)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def lookup_value(self, value: str | None) -> str | None:
        return fieldcrypt.blind_index(value, purpose=self.purpose) if value else None

    def pre_save(self, model_instance, add):
        value = self.lookup_value(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract:
            pre_save.connect(_refuse_stale_index(self), sender=cls, weak=False, dispatch_uid=f"blind-index:{id(self)}")


def _refuse_stale_index(index: BlindIndexField):
    def receiver(sender, instance, raw=False, update_fields=None, **kwargs):
        if update_fields and index.source in update_fields and index.name not in update_fields:
            raise ValueError(
                f"保存 {sender.__name__}.{index.source} 时 update_fields 必须同时包含 {index.name}（盲索引）。"
            )

    return receiver


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedCharField]]:
    """Every (model, field) of the installed apps whose column is encrypted."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedCharField)
    ]


def blind_index_of(model: type[models.Model], source: str) -> BlindIndexField | None:
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source == source:
            return field
    return None
