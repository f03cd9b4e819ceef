"""``backprop.summary`` reproduces the lectures' worked numbers exactly."""

import numpy as np
import pytest

import backprop
from backprop import models, nn


def test_exported_at_the_top():
    assert backprop.summary is models.summary


def test_lecture_convolution_example():
    # 3x32x32 input, 10 filters 5x5, stride 1, pad 2 -> 10x32x32; 10 * (3*5*5 + 1) = 760
    # parameters; 10*32*32 outputs, each a 3x5x5 inner product: 75 * 10,240 = 768,000 MACs.
    conv = nn.Conv2d(3, 10, kernel_size=5, stride=1, padding=2)
    s = backprop.summary(conv, (3, 32, 32))
    (row,) = s.rows
    assert row.output_shape == (1, 10, 32, 32)
    assert row.weight_shape == (10, 3, 5, 5)
    assert (row.num_params, s.total_params, s.trainable_params) == (760, 760, 760)
    assert row.macs == s.total_macs == 768_000
    # Per sample whatever the batch.
    assert backprop.summary(conv, (3, 32, 32), batch_size=3).total_macs == 768_000


def test_lecture_3_4_2_network():
    net = models.MLP([3, 4, 2])
    weights = sum(p.numel() for n, p in net.named_parameters() if n.endswith("weight"))
    assert weights == (3 * 4) + (4 * 2) == 20
    s = backprop.summary(net, (3,))
    assert s.total_params == 20 + 4 + 2 == 26
    assert s.total_macs == 20
    assert [r.output_shape for r in s.rows if r.type_name == "Linear"] == [(1, 4), (1, 2)]


def test_lenet5_table():
    s = backprop.summary(models.LeNet5(), (1, 28, 28))
    table = [(r.type_name, r.output_shape[1:], r.weight_shape) for r in s.leaves()]
    assert table == [
        ("Conv2d", (20, 28, 28), (20, 1, 5, 5)),
        ("ReLU", (20, 28, 28), None),
        ("MaxPool2d", (20, 14, 14), None),
        ("Conv2d", (50, 14, 14), (50, 20, 5, 5)),
        ("ReLU", (50, 14, 14), None),
        ("MaxPool2d", (50, 7, 7), None),
        ("Flatten", (2450,), None),
        ("Linear", (500,), (500, 2450)),  # the lecture's "2450 x 500", stored (out, in)
        ("ReLU", (500,), None),
        ("Linear", (10,), (10, 500)),
    ]
    assert s.total_params == 520 + 25_050 + 1_225_500 + 5_010 == 1_256_080
    assert s.total_macs == 392_000 + 4_900_000 + 1_225_000 + 5_000 == 6_522_000
    text = str(s)
    assert "features.conv1 (Conv2d)" in text and "1,256,080" in text and "6,522,000" in text


def test_alexnet_table():
    s = backprop.summary(models.AlexNet(), (3, 227, 227))
    shapes = {r.name.split(".")[-1]: r.output_shape[1:] for r in s.leaves()}
    expected = {
        "conv1": (96, 55, 55), "pool1": (96, 27, 27), "conv2": (256, 27, 27),
        "pool2": (256, 13, 13), "conv3": (384, 13, 13), "conv4": (384, 13, 13),
        "conv5": (256, 13, 13), "pool3": (256, 6, 6), "fc6": (4096,), "fc7": (4096,),
        "fc8": (1000,),
    }  # fmt: skip
    assert {k: shapes[k] for k in expected} == expected
    assert s.total_params == 62_378_344
    assert s.total_macs == 1_135_256_096


def test_vgg16_and_resnet18_counts_match_torchvision():
    vgg = models.VGG16()
    assert sum(p.numel() for p in vgg.parameters()) == 138_357_544
    s = backprop.summary(vgg, (3, 224, 224))  # one forward at batch 1
    assert s.total_params == 138_357_544
    assert s.rows[-1].output_shape == (1, 1000)
    convs = [r for r in s.leaves() if r.type_name == "Conv2d"]
    assert len(convs) == 13 and convs[-1].output_shape == (1, 512, 14, 14)
    del vgg, s
    s = backprop.summary(models.ResNet18(), (3, 224, 224))
    assert s.total_params == s.trainable_params == 11_689_512
    assert s.layer("layer4").output_shape == (1, 512, 7, 7)
    # 1.81 GMACs in convs + fc (as fvcore counts them); batch norm adds one per output element.
    conv_fc = sum(r.macs for r in s.leaves() if r.type_name in ("Conv2d", "Linear"))
    assert conv_fc == 1_814_073_344


def test_other_vgg_and_resnet_counts():
    # The same table builds the others; torchvision's counts for VGG-11/13/19 and ResNet-34.
    # Built with a tiny classifier and image so the test stays cheap, then corrected: the
    # default classifier's first layer is 512*7*7 -> 4096 instead of 512*1*1 -> 4096.
    fc_fix = (512 * 7 * 7 - 512) * 4096
    for depth, count in [(11, 132_863_336), (13, 133_047_848), (19, 143_667_240)]:
        net = models.VGG(depth=depth, image_size=32)
        assert sum(p.numel() for p in net.parameters()) + fc_fix == count, depth
    assert sum(p.numel() for p in models.ResNet34().parameters()) == 21_797_672


def test_depth_folding_and_text():
    s = backprop.summary(models.LeNet5(), (1, 28, 28), depth=1)
    text = str(s)
    assert "features.conv1" not in text
    assert "features (Sequential)" in text and "25,570" in text  # 520 + 25,050
    assert "Total mult-adds (per sample): 6,522,000" in text


def test_shared_parameters_counted_once_and_tied_macs():
    ae = models.TiedAutoencoder([20, 8])
    s = backprop.summary(ae, (20,))
    assert s.total_params == 20 * 8 + 8 + 20
    assert sum(r.num_params for r in s.rows) == s.total_params
    assert s.layer("decoder.0").macs == 8 * 20


def test_recurrent_and_token_inputs():
    sc = models.SequenceClassifier(5, 16, 3, cell="lstm", num_layers=2, bidirectional=True)
    s = backprop.summary(sc, (7, 5))
    per_step = 2 * (4 * 16 * 5 + 4 * 16 * 16) + 2 * (4 * 16 * 32 + 4 * 16 * 16)
    assert s.layer("rnn").macs == 7 * per_step
    assert s.rows[-1].output_shape == (1, 3)
    lm = models.CharRNN(10, 16, cell="gru")
    s = backprop.summary(lm, (6,), dtype=np.int64)
    assert s.layer("fc").output_shape == (1, 6, 10)
    s2 = backprop.summary(models.Seq2Seq(12, 13, 16), [(5,), (6,)], dtype=[np.int64, np.int64])
    assert s2.rows[-1].output_shape == (1, 6, 13)


def test_modes_restored_and_no_graph():
    net = models.MLP([4, 8, 2], dropout=0.5, batchnorm=True)
    net.train()
    backprop.summary(net, (4,))
    assert all(m.training for m in net.modules())
    net.eval()
    backprop.summary(net, (4,))
    assert not any(m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())


def test_input_data_and_errors():
    net = models.MLP([4, 3])
    s = backprop.summary(net, input_data=backprop.randn(5, 4))
    assert s.batch_size == 5 and s.rows[-1].output_shape == (5, 3)
    with pytest.raises(TypeError, match="summary: expected a backprop.nn.Module"):
        backprop.summary(lambda x: x, (4,))
    with pytest.raises(ValueError, match="summary: give input_shape"):
        backprop.summary(net)
    with pytest.raises(ValueError, match="batch_size"):
        backprop.summary(net, (4,), batch_size=0)
    with pytest.raises(ValueError, match="positive ints"):
        backprop.summary(net, (0,))
    with pytest.raises(KeyError, match="no layer named"):
        backprop.summary(net, (4,)).layer("nope")
