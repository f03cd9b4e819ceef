# A GRU encoder-decoder (seq2seq) with teacher forcing, trained to reverse short sequences.
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

random.seed(0)
SOS, EOS, V, H = 0, 1, 8, 32


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H)
        self.gru = nn.GRU(H, H, batch_first=True)

    def forward(self, x):
        return self.gru(self.embedding(x))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H)
        self.gru = nn.GRU(H, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward(self, token, hidden):
        output, hidden = self.gru(F.relu(self.embedding(token)), hidden)
        return F.log_softmax(self.out(output), dim=-1), hidden


enc, dec = Encoder(), Decoder()
for k, m in enumerate((enc, dec)):
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(
                torch.from_numpy(
                    np.random.default_rng(10 * k + i)
                    .normal(0, 0.2, tuple(p.shape))
                    .astype(np.float32)
                )
            )
params = list(enc.parameters()) + list(dec.parameters())
opt = torch.optim.Adam(params, lr=0.01)
criterion = nn.NLLLoss()
rng = np.random.default_rng(0)
losses = []
for step in range(60):
    src = torch.tensor(rng.integers(2, V, size=(16, 4)))
    tgt = torch.flip(src, dims=[1])
    _, hidden = enc(src)
    token = torch.full((16, 1), SOS, dtype=torch.long)
    loss = 0
    teacher = random.random() < 0.5
    for t in range(tgt.shape[1]):
        logp, hidden = dec(token, hidden)
        loss = loss + criterion(logp.squeeze(1), tgt[:, t])
        if teacher:
            token = tgt[:, t].unsqueeze(1)
        else:
            _, topi = logp.topk(1)
            token = topi.squeeze(-1).detach()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item() / tgt.shape[1])
print("loss decreased:", np.mean(losses[-10:]) < np.mean(losses[:10]))
print(hidden.shape, torch.cat([src, tgt], dim=1).shape)
