# A custom Dataset with a transform, a DataLoader with shuffle and a generator, random_split.
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, random_split


class SquaresDataset(Dataset):
    def __init__(self, n, transform=None):
        self.x = np.arange(n, dtype=np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        sample = {"x": torch.tensor([self.x[idx]]), "y": torch.tensor(self.x[idx] ** 2)}
        if self.transform:
            sample = self.transform(sample)
        return sample


def scale(sample):
    return {"x": sample["x"] / 10, "y": sample["y"]}


ds = SquaresDataset(20, transform=scale)
print(len(ds), ds[3]["x"], ds[3]["y"])
g = torch.Generator().manual_seed(0)
train_ds, val_ds = random_split(ds, [15, 5], generator=g)
print(len(train_ds), len(val_ds))
loader = DataLoader(train_ds, batch_size=4, shuffle=True, generator=g, drop_last=True)
print(len(loader))
total = 0
for batch in loader:
    print(batch["x"].shape, batch["y"].shape, batch["y"].dtype)
    total += batch["x"].shape[0]
print(total)
all_y = sorted(float(y) for b in DataLoader(ds, batch_size=7) for y in b["y"])
print(all_y[:5], len(all_y))
