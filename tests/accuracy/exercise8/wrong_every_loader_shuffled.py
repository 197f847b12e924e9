# expect: wrong
# expect-words: validation loader shuffles
# why: shuffle=True copied to all three loaders
from torch.utils.data import DataLoader, Dataset, random_split


class IRISDataset(Dataset):
    def __init__(self, data, target):
        self.data = data
        self.target = target

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return self.data[idx], self.target[idx]


def make_loaders(dataset, generator):
    train_set, val_set, test_set = random_split(dataset, [0.7, 0.2, 0.1], generator=generator)
    return tuple(DataLoader(s, batch_size=10, shuffle=True, generator=generator)
                 for s in (train_set, val_set, test_set))
