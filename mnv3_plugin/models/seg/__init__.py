"""Segmentation heads (LR-ASPP, R-ASPP)."""
