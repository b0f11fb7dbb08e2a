_base_ = './_base_/models/mnasnet_a1.py'
