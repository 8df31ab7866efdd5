"""shanqian.text: the one check of free text (required, length, forbidden characters)."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as DrfValidationError

from shanqian.errors import InvalidInput
from shanqian.serializers import TextField
from shanqian.text import TextRefused, TextValidator, check_text, clean_text, forbidden_char, validate_name

BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\x7f", "\ufffd"]


@pytest.mark.parametrize("char", CONTROL + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_controls_and_bidi_controls_are_refused_in_every_text(char):
    assert forbidden_char(f"驳回{char}原因") == char
    assert forbidden_char(f"张{char}三", name=True) == char
    with pytest.raises(TextRefused) as refused:
        check_text(f"驳回{char}原因", label="驳回原因")
    assert (refused.value.message, refused.value.code) == ("驳回原因包含无效字符。", "bad_chars")


@pytest.mark.parametrize("char", ZERO_WIDTH, ids=lambda c: f"U+{ord(c):04X}")
def test_zero_width_characters_are_refused_in_names_only(char):
    assert forbidden_char(f"张{char}三", name=True) == char
    assert forbidden_char(f"张{char}三") is None
    with pytest.raises(TextRefused):
        check_text(f"张{char}三", label="姓名", name=True)
    assert check_text(f"张{char}三", label="备注") == f"张{char}三"


def test_tab_newline_and_ordinary_text_pass():
    text = "第一行\n第二行\t（全角标点）English 123 👩\u200d💻"
    assert forbidden_char(text) is None
    assert check_text(f"  {text}  ", label="备注", max_length=100) == text


@pytest.mark.parametrize(
    ("value", "kwargs", "message", "code"),
    [
        (None, {}, "请填写备注。", "required"),
        ("   ", {}, "请填写备注。", "required"),
        (["x"], {}, "备注应为文本。", "invalid"),
        (12, {"required": False}, "备注应为文本。", "invalid"),
        ("x" * 6, {"max_length": 5}, "备注不能超过 5 个字符。", "max_length"),
    ],
)
def test_refusals_name_the_field_and_say_why(value, kwargs, message, code):
    with pytest.raises(TextRefused) as refused:
        check_text(value, label="备注", **kwargs)
    assert (refused.value.message, refused.value.code) == (message, code)


def test_optional_text_may_be_empty_and_length_counts_after_stripping():
    assert check_text(None, label="备注", required=False) == ""
    assert check_text("  12345  ", label="备注", max_length=5) == "12345"


def test_clean_text_raises_the_domain_error_at_the_field():
    with pytest.raises(InvalidInput) as error:
        clean_text("\u202e", field="reason", label="驳回原因", max_length=256)
    assert error.value.data == {"errors": {"reason": ["驳回原因包含无效字符。"]}}


def test_the_form_validator_refuses_the_same_characters():
    class Form(forms.Form):
        note = forms.CharField(validators=[TextValidator(message="备注包含无效字符。")])
        name = forms.CharField(validators=[validate_name])

    form = Form(data={"note": "好\u202e", "name": "张\u200b三"})

    assert not form.is_valid()
    assert form.errors == {"note": ["备注包含无效字符。"], "name": ["包含无效字符。"]}
    assert Form(data={"note": "好\u200d", "name": "张三"}).is_valid()
    with pytest.raises(ValidationError):
        validate_name("\ufeff")


def test_the_api_text_field_refuses_bidi_everywhere_and_zero_width_in_names():
    with pytest.raises(DrfValidationError):
        TextField().run_validation("好\u202e")
    with pytest.raises(DrfValidationError):
        TextField(name=True).run_validation("张\u200b三")
    assert TextField().run_validation("好\u200b") == "好\u200b"
