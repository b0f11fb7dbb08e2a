# Section 6.4's schedule ("the same training protocol as [8, 39]"): DeepLab's "poly" policy,
# lr = base x (1 - iter / max_iter) ^ 0.9, down to 0, SGD with momentum 0.9 and DeepLab's
# MobileNet weight decay 4e-5, trained from scratch without ImageNet pretraining. 90,000
# iterations x 8 crops = 720,000 crops = 242 epochs of the 2,975 train_fine images. The paper
# prints no learning rate; 0.01 is mmseg's Cityscapes base lr for this batch size.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']

max_iters = 90000
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=4e-5))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
# validate and checkpoint every 10% of the schedule (9,000 iterations)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))
auto_scale_lr = dict(enable=False, base_batch_size=8)
