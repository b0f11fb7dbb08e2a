_base_ = './_base_/models/mnasnet_small.py'
