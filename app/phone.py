"""Phone numbers as people in Vietnam write them, normalised to E.164."""

import phonenumbers


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str = "VN") -> str:
    """'0912 345 678', '+84 912 345 678', '84912345678' -> '+84912345678'."""
    digits = raw.strip()
    # '84912345678' without '+' is common in SMS gateways: treat a leading 84 + 9 digits as +84.
    bare = "".join(ch for ch in digits if ch.isdigit())
    if not digits.startswith(("+", "0")) and bare.startswith("84") and len(bare) in (11, 12):
        digits = "+" + bare
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(
            f"'{raw}' is not a valid phone number; expected a Vietnamese number such as "
            "0912 345 678 or an international one such as +84 912 345 678"
        )
    if number.extension:
        # E.164 has no room for an extension: refused rather than silently dropped.
        raise InvalidPhone(
            f"'{raw}' has an extension ({number.extension}), which is not stored; give the "
            "number without it and put the extension in the description"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
