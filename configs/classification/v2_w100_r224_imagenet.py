_base_ = './_base_/models/v2.py'
