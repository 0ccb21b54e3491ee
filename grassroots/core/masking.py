"""Masked forms shown on pages by default."""


def mask_id_number(number: str) -> str:
    """``320102199001011234`` → ``3201**********1234``."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: for pages shown beyond the grid."""
    return name[:1] + "*" * (len(name) - 1) if name else name
