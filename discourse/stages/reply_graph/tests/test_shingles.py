"""Quote detection keeps each comment's word runs compactly and answers as the plain sets do."""

import random

from discourse.stages.reply_graph.shingles import Shingles, shingle_hashes


def test_overlap_matches_the_sets_and_keeps_few_sets_alive() -> None:
    rng = random.Random(0)
    words = "the debt stays for thirty years and the stadium is good for jobs in town".split()
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 14))) for _ in range(300)]
    texts += [texts[5] + " and more", "x " + texts[7]]  # quotes of earlier comments
    sh = Shingles(texts, keep=16)
    for _ in range(3000):
        i, j = rng.randrange(len(texts)), rng.randrange(len(texts))
        assert sh.overlap(i, j) == bool(shingle_hashes(texts[i]) & shingle_hashes(texts[j]))
        assert len(sh._sets) <= 16
    assert sh.overlap(300, 5) == (len(texts[5].split()) >= 6)
    assert not sh.overlap(0, len(texts) - 1) or shingle_hashes(texts[0]) & shingle_hashes(texts[-1])
