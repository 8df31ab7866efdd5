"""Reference data: dictionary entries (seed's ``dictionary`` table) and administrative divisions."""

from django.db import models


class Dictionary(models.Model):
    """One entry of a named dictionary (``dict_item``), e.g. Edu_Type / bachelor / 本科."""

    dict_item = models.CharField("字典类别", max_length=32, db_index=True)
    dict_key = models.CharField("键", max_length=32)
    dict_value = models.CharField("值", max_length=64)
    code = models.CharField("国标代码", max_length=16, blank=True, help_text="如 GB/T 4658 学历代码")
    sort = models.PositiveIntegerField("排序", default=0)
    enabled = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "字典项"
        verbose_name_plural = "字典项"
        ordering = ["dict_item", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["dict_item", "dict_key"], name="dictionary_item_key_unique")]

    def __str__(self):
        return f"{self.dict_item}: {self.dict_value}"


class Region(models.Model):
    """A GB/T 2260 administrative division; ``id`` is its 6-digit code (110000, 110100, 110101)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        CITY = 2, "地级"
        COUNTY = 3, "县级"

    id = models.PositiveIntegerField("行政区划代码", primary_key=True)
    name = models.CharField("名称", max_length=64)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["id"]

    def __str__(self):
        return f"{self.name}（{self.id}）"
