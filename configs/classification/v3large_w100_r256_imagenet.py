# Figure 7, V3-Large at input resolution 256: only the data differs. Evaluation on the central
# 87.5% as at 224: short edge round(256 / 0.875) = 293, then a 256 x 256 centre crop.
_base_ = './v3large_w100_r224_imagenet.py'
_base_.train_dataloader.dataset.pipeline[1].scale = 256
_base_.val_dataloader.dataset.pipeline[1].scale = 293
_base_.val_dataloader.dataset.pipeline[2].crop_size = 256
test_dataloader = _base_.val_dataloader
