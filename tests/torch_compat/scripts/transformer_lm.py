# A small Transformer language model: sinusoidal positions in a buffer, nn.TransformerEncoder
# with a causal mask, weight init, training a few steps.
import math

import numpy as np
import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model=32, nhead=4, d_hid=64, nlayers=2):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout=0.0)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)

    def forward(self, src, src_mask=None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_mask)
        return self.linear(output)


ntokens = 11
model = TransformerModel(ntokens)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.from_numpy(
                np.random.default_rng(i).normal(0, 0.1, tuple(p.shape)).astype(np.float32)
            )
        )
mask = nn.Transformer.generate_square_subsequent_mask(10)
data = torch.tensor(np.tile(np.arange(11), 8)[:80].reshape(10, 8))  # (seq, batch)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()
model.eval()  # dropout is 0 anyway; eval keeps the fast paths out of the comparison
with torch.no_grad():
    out0 = model(data[:9], mask[:9, :9])
print(out0.shape, round(out0.abs().mean().item(), 4))
model.train()
losses = []
for step in range(10):
    output = model(data[:9], mask[:9, :9])
    loss = criterion(output.view(-1, ntokens), data[1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    losses.append(round(loss.item(), 4))
print(losses)
