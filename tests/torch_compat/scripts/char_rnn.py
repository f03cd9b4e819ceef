# A character-level LSTM: Embedding, nn.LSTM(batch_first), hidden state carried and detached
# between chunks (truncated BPTT), clip_grad_norm_, Adam; then sampling with temperature.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

text = "the quick brown fox jumps over the lazy dog " * 8
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.fc(out), state


model = CharRNN(len(chars))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.from_numpy(
                np.random.default_rng(i).normal(0, 0.2, tuple(p.shape)).astype(np.float32)
            )
        )
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
seq = 16
first = last = None
for epoch in range(4):
    state = None
    for i in range(0, len(data) - seq - 1, seq):
        x = data[i : i + seq].unsqueeze(0)
        y = data[i + 1 : i + seq + 1].unsqueeze(0)
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.view(-1, len(chars)), y.view(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        first = loss.item() if first is None else first
        last = loss.item()
print(f"first loss {first:.4f} last loss {last:.4f}")

model.eval()
with torch.no_grad():
    x = data[:5].unsqueeze(0)
    logits, state = model(x)
    print(logits.shape, state[0].shape, state[1].shape)
    probs = F.softmax(logits[0, -1] / 0.8, dim=-1)
    print(round(probs.sum().item(), 5), probs.argmax().item() == torch.argmax(probs).item())
