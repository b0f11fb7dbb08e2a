# Figure 7, V3-Large at input resolution 96: only the data differs. Evaluation on the central
# 87.5% as at 224: short edge round(96 / 0.875) = 110, then a 96 x 96 centre crop.
_base_ = './v3large_w100_r224_imagenet.py'
_base_.train_dataloader.dataset.pipeline[1].scale = 96
_base_.val_dataloader.dataset.pipeline[1].scale = 110
_base_.val_dataloader.dataset.pipeline[2].crop_size = 96
test_dataloader = _base_.val_dataloader
