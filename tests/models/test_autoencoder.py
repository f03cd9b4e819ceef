"""Tied autoencoders share one weight; layer-wise pre-training changes only the layer trained."""

import numpy as np
import pytest

import backprop
from backprop import models, nn, optim


def test_decoder_uses_the_encoder_weight_transposed():
    ae = models.TiedAutoencoder([6, 4])
    enc, dec = ae.encoder[0], ae.decoder[0]
    assert dec.weight is enc.weight  # one Parameter object
    names = [n for n, _ in ae.named_parameters()]
    assert names == ["encoder.0.weight", "encoder.0.bias", "decoder.0.bias"]
    x = backprop.rand(3, 6)
    with backprop.no_grad():
        h = backprop.sigmoid(x @ enc.weight.T + enc.bias)
        ref = backprop.sigmoid(h @ enc.weight + dec.bias)
        np.testing.assert_allclose(ae(x).data, ref.data, rtol=1e-6)
        np.testing.assert_allclose(ae.encode(x).data, h.data, rtol=1e-6)


def test_tied_gradient_is_the_sum_of_both_uses():
    ae = models.TiedAutoencoder([6, 4], output_activation="linear")
    x = backprop.rand(5, 6)
    ((ae(x) - x) ** 2).mean().backward()
    tied = ae.encoder[0].weight.grad.data.copy()

    # The same network with two separate copies of W: the tied gradient is their sum.
    w = ae.encoder[0].weight.data
    w_enc = backprop.tensor(w.copy(), requires_grad=True)
    w_dec = backprop.tensor(w.copy(), requires_grad=True)
    h = backprop.sigmoid(x @ w_enc.T + ae.encoder[0].bias.detach())
    out = h @ w_dec + ae.decoder[0].bias.detach()
    ((out - x) ** 2).mean().backward()
    np.testing.assert_allclose(tied, w_enc.grad.data + w_dec.grad.data, rtol=1e-5, atol=1e-7)
    assert np.abs(w_enc.grad.data).sum() > 0 and np.abs(w_dec.grad.data).sum() > 0


def test_stacked_autoencoder_learns_to_reconstruct():
    ae = models.TiedAutoencoder([16, 8, 4], corruption=0.1)
    assert [d.weight.shape for d in ae.decoder] == [(4, 8), (8, 16)]
    proto = (backprop.rand(4, 16).data > 0.5).astype(np.float32)
    x = backprop.tensor(np.repeat(proto, 8, axis=0))
    opt = optim.Adam(ae.parameters(), lr=0.1)
    loss_fn = nn.BCELoss()
    ae.eval()
    first = loss_fn(ae(x), x).item()
    ae.train()
    for _ in range(200):
        loss = loss_fn(ae(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ae.eval()
    assert loss_fn(ae(x), x).item() < 0.05 * first


def _snapshot(model):
    return {n: p.data.copy() for n, p in model.named_parameters()}


def _changed(model, before):
    return {n for n, p in model.named_parameters() if not np.array_equal(p.data, before[n])}


def test_pretraining_changes_only_the_layer_trained():
    mlp = models.MLP([12, 8, 6, 3], activation="sigmoid", batchnorm=True)
    x = backprop.rand(40, 12)
    before = _snapshot(mlp)
    hist = models.pretrain_layerwise(mlp, x, layers=[1], epochs=2, batch_size=16)
    assert len(hist.layer_losses) == 1 and len(hist.layer_losses[0]) == 2
    # Layer 1 is the second hidden block: Linear at index 4, then its BatchNorm.
    assert _changed(mlp, before) == {"4.weight", "4.bias", "5.weight", "5.bias"}
    # The running statistics of other layers did not move either.
    assert np.array_equal(mlp[2].running_mean.data, np.zeros(8, np.float32))
    assert all(m.training for m in mlp.modules())  # modes restored

    before = _snapshot(mlp)
    models.pretrain_layerwise(mlp, x, layers=[0], epochs=1, batch_size=16)
    assert _changed(mlp, before) == {"1.weight", "1.bias", "2.weight", "2.bias"}


def test_pretraining_all_layers_then_finetuning():
    backprop.manual_seed(1)
    x = backprop.rand(64, 10)
    y = backprop.tensor((x.data[:, 0] > 0.5).astype(np.int64))
    mlp = models.MLP([10, 8, 6, 2], activation="sigmoid")
    before = _snapshot(mlp)
    hist = models.pretrain_layerwise(
        mlp, x, epochs=20, lr=0.01, batch_size=16, y=y, finetune_epochs=30, finetune_lr=0.03
    )
    assert len(hist.layer_losses) == 2
    for losses in hist.layer_losses:
        assert losses[-1] < losses[0]  # reconstruction improves
    assert hist.finetune_losses[-1] < 0.5 * hist.finetune_losses[0]
    assert _changed(mlp, before) == set(before)  # fine-tuning moved everything

    # finetune alone (the random-init baseline) and its argument checks
    losses = models.finetune(models.MLP([10, 4, 2]), x, y, epochs=2)
    assert len(losses) == 2
    with pytest.raises(ValueError, match="finetune: 64 inputs but 3 labels"):
        models.finetune(mlp, x, np.zeros(3), epochs=1)


def test_pretraining_errors():
    with pytest.raises(ValueError, match="layer 2 is not a hidden layer"):
        models.pretrain_layerwise(models.MLP([4, 3, 2]), np.zeros((4, 4)), layers=[2])
    with pytest.raises(ValueError, match="at least one hidden Linear"):
        models.pretrain_layerwise(models.MLP([4, 2]), np.zeros((4, 4)))
    with pytest.raises(TypeError, match="expected an nn.Sequential"):
        models.pretrain_layerwise(models.LeNet5(), np.zeros((4, 1, 28, 28)))
    with pytest.raises(TypeError, match="expected an nn.Linear"):
        models.TiedLinear(nn.ReLU())
