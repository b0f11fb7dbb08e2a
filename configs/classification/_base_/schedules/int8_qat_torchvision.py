# int8 by quantization-aware training (QAT) with NNCF, on torchvision's QAT schedule for
# mobilenet_v3_large. An int8 config inherits its fp32 row and this file, and takes the schedule
# keys (and custom_imports) from `int8_qat` (mmengine forbids the same key in two bases):
#
#   _base_ = ['./v3large_w100_r224_imagenet.py', './_base_/schedules/int8_qat_torchvision.py']
#   optim_wrapper = {{_base_.int8_qat.optim_wrapper}}  # and the other keys of int8_qat
#
# The paper does not say how its Table 4 networks were quantized (Section 6.2: "We include
# quantization results in table 4"; the caption gives only the latency protocol), so the
# default is the public recipe that produced a quantized MobileNetV3-Large: torchvision's
# MobileNet_V3_Large_QuantizedWeights.IMAGENET1K_QNNPACK_V1, 73.004 top-1 ("Quantization Aware
# Training (eager mode) on top of the unquantized weights", 74.042; pytorch/vision
# torchvision/models/quantization/mobilenetv3.py). Its command (pytorch/vision
# references/classification/README.md, "QAT MobileNetV3"), with train_quantization.py's
# defaults for the flags it does not give:
#   torchrun --nproc_per_node=8 train_quantization.py --model='mobilenet_v3_large' \
#       --wd 0.00001 --lr 0.001
#   (batch 32 per GPU, 90 epochs, SGD momentum 0.9, StepLR step 30 gamma 0.1,
#    --num-observer-update-epochs 4, --num-batch-norm-update-epochs 3, backend qnnpack)
# What differs, by necessity: the quantizer is NNCF's (symmetric per-channel weights and
# symmetric activations, the 'performance' preset; ranges initialised by PTQ on 300 training
# images and then trained, NNCF's QAT) instead of torch.ao's eager QAT with qnnpack's observers;
# the input pipeline and scaling are the row's (its fp32 weights expect them).
runner_type = 'mnv3_plugin.QuantizationRunner'
quantization = dict(
    method='qat',
    # the fp32 weights to quantize: each int8 config names the file its row's training writes
    # (tools/train.py ROW_CONFIG -> work_dirs/ROW/epoch_600.pth); an fp32 load_from given on
    # the command line (tools/test.py CONFIG FP32_CKPT) wins; a missing file fails at once.
    checkpoint=None,
    calib_dataloader='train_dataloader',
    subset_size=300,  # NNCF's default calibration size
    preset='performance',
    # train_quantization.py trains epoch e (0-based), then disables the observers when
    # e >= 4 and freezes BN statistics when e >= 3: observers update during 5 epochs, BN
    # statistics during 4 (counts here: epochs completed before freezing).
    by_epoch=True,
    freeze_bn_after=3 + 1,
    freeze_quantizers_after=4 + 1,
)
int8_qat = dict(
    # QuantizationRunner lives in mnv3_plugin.deploy
    custom_imports=dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'],
                        allow_failed_imports=False),
    # torch.optim.SGD(lr, momentum=0.9, weight_decay) on every parameter
    optim_wrapper=dict(
        optimizer=dict(_delete_=True, type='SGD', lr=0.001, momentum=0.9, weight_decay=1e-5)),
    # StepLR(step_size=30, gamma=0.1) stepped once per epoch
    param_scheduler=[dict(type='StepLR', by_epoch=True, step_size=30, gamma=0.1)],
    train_cfg=dict(by_epoch=True, max_epochs=90, val_interval=1),
    # 256 = 8 GPUs x 32 images: lr 0.001 is for that batch; auto_scale_lr (enabled by the rows)
    # rescales it linearly for another real batch
    auto_scale_lr=dict(base_batch_size=256),
    train_dataloader=dict(batch_size=32),
    custom_hooks=[],  # no EMA in train_quantization.py
)
