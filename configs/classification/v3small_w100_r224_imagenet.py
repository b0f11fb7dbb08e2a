_base_ = './_base_/models/v3small.py'
