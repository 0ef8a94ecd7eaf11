"""Phone-number masking of ticket text shown to people other than its filer (no database needed)."""
import pytest

from feedback.masking import mask_phone_numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("请回电13812345678谢谢", "请回电138****5678谢谢"),
        ("手机 138 1234 5678。", "手机 138****5678。"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("8613812345678", "86138****5678"),
        ("１３８１２３４５６７８", "１３８****５６７８"),
        ("座机 010-62345678", "座机 010-****5678"),
        ("(021)62345678", "(021)****5678"),
        ("（0571）88886666", "（0571）****6666"),
        ("0755 8888 1234", "0755 ****1234"),
        ("两个号码 13912345678 和 15087654321", "两个号码 139****5678 和 150****4321"),
    ],
)
def test_phone_numbers_are_masked(text, expected):
    assert mask_phone_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号202405121381234567890",  # a mobile-shaped run inside a longer number
        "订单 13812345678901",
        "12345678901",  # 11 digits but no mobile prefix
        "价格 199 元，2024-05-12 下单",
        "客服热线 400-820-8820",  # company hotline, not a person's number
        "",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_phone_numbers(text) == text
