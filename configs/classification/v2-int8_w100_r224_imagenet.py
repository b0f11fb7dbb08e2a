# Table 4, V2 1.0 (8-bit; 70.9 top-1; Table 3: 72.0): the Table 3 row's network quantized by QAT on
# torchvision's schedule (configs/classification/_base_/schedules/int8_qat_torchvision.py says why
# and from where). Run: tools/train.py THIS (QAT), tools/test.py THIS CKPT.
_base_ = ['./v2_w100_r224_imagenet.py', './_base_/schedules/int8_qat_torchvision.py']
custom_imports = {{_base_.int8_qat.custom_imports}}
optim_wrapper = {{_base_.int8_qat.optim_wrapper}}
param_scheduler = {{_base_.int8_qat.param_scheduler}}
train_cfg = {{_base_.int8_qat.train_cfg}}
auto_scale_lr = {{_base_.int8_qat.auto_scale_lr}}
train_dataloader = {{_base_.int8_qat.train_dataloader}}
custom_hooks = {{_base_.int8_qat.custom_hooks}}
# the row's fp32 weights where tools/train.py leaves them (600 epochs)
quantization = dict(checkpoint='work_dirs/v2_w100_r224_imagenet/epoch_600.pth')
