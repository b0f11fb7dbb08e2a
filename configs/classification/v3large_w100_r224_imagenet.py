_base_ = './_base_/models/v3large.py'
