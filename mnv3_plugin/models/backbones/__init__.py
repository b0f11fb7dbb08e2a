from .mobilenet import MnasNet, MobileNetV1, MobileNetV2, MobileNetV3, TableNet, make_divisible

__all__ = ['MnasNet', 'MobileNetV1', 'MobileNetV2', 'MobileNetV3', 'TableNet', 'make_divisible']
