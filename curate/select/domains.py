"""Domains for the diversity stage: clusters of the questions when no domain column is given.

Embeddings are TF-IDF + truncated SVD (latent semantic analysis, offline, scikit-learn) by
default, or a sentence-transformers model with `--embed-model`. They are L2-normalised and
grouped by k-means. Above 20,000 questions the SVD and k-means are fitted on a seeded sample
of 20,000 and then applied to all (100,000 questions: about 5 s on one core, 1.5x faster than
fitting on all, and the labels agree with such a fit as well as two such fits agree with each
other; see benchmarks/select_bench.py). Each cluster is named by the top terms of its mean
TF-IDF vector ("c07 triangle/area/circle").
"""

from __future__ import annotations

import numpy as np

FIT_SAMPLE = 20_000
_FIT_SAMPLE = FIT_SAMPLE
_SVD_DIMENSIONS = 100
_MAX_AUTO_CLUSTERS = 50


def auto_clusters(size: int) -> int:
    """sqrt(n/2), between 2 and 50 (s1 used 50 domains for 59K questions)."""
    return int(min(_MAX_AUTO_CLUSTERS, max(2, round((size / 2) ** 0.5))))


def cluster_domains(texts: list[str], *, clusters: int | None = None,
                    embed_model: str | None = None, seed: int = 0,
                    batch_size: int = 64) -> list[str]:
    """A domain name for each text, from k-means over its embedding."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from threadpoolctl import threadpool_limits

    count = min(clusters or auto_clusters(len(texts)), len(texts))
    if count < 2:
        return ["c00"] * len(texts)
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", max_features=100_000,
                            min_df=2 if len(texts) >= 1000 else 1, dtype=np.float32)
    try:
        terms = tfidf.fit_transform(texts)
    except ValueError:  # no usable word at all (empty or stop-word-only texts)
        raise ValueError("clustering: the questions contain no words to cluster on; "
                         "give --domain-field or check --prompt-field") from None
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(texts), _FIT_SAMPLE, replace=False)) \
        if len(texts) > _FIT_SAMPLE else np.arange(len(texts))
    if embed_model:
        vectors = _sentence_embeddings(texts, embed_model, batch_size)
    # One BLAS/OpenMP thread: on a busy 2-core machine, 100k questions took 30-40 s with
    # scikit-learn's default 2 threads (spin-waiting for a core) and 7-10 s with one.
    with threadpool_limits(1):
        if not embed_model:
            vectors = _lsa(terms, sample, seed)
        labels = _kmeans(vectors, sample, count, seed)
    names = _cluster_names(terms, labels, count, tfidf.get_feature_names_out())
    return [names[label] for label in labels]


def _lsa(terms, sample: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    dimensions = min(_SVD_DIMENSIONS, terms.shape[1] - 1, len(sample) - 1)
    if dimensions < 2:
        return normalize(terms.toarray())
    svd = TruncatedSVD(n_components=dimensions, random_state=seed).fit(terms[sample])
    return normalize(svd.transform(terms))


def _sentence_embeddings(texts: list[str], model: str, batch_size: int) -> np.ndarray:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ValueError("--embed-model needs sentence-transformers: "
                         "pip install sentence-transformers") from None
    from curate.select.lm import device

    try:
        encoder = SentenceTransformer(model, device=device())
    except OSError as exc:
        raise ValueError(f"embedding model {model!r} could not be loaded (a local path, or a "
                         f"hub id when online): {exc}") from None
    return encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                          show_progress_bar=len(texts) > 1000, convert_to_numpy=True)


def _kmeans(vectors: np.ndarray, sample: np.ndarray, count: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=count, random_state=seed, n_init=3).fit(vectors[sample])
    return model.predict(vectors)


def _cluster_names(terms, labels: np.ndarray, count: int, vocabulary: np.ndarray) -> list[str]:
    width = max(2, len(str(count - 1)))
    names = []
    for cluster in range(count):
        members = labels == cluster
        weights = np.asarray(terms[members].mean(axis=0)).ravel() if members.any() else None
        top = [] if weights is None else [vocabulary[i] for i in np.argsort(-weights)[:3]
                                          if weights[i] > 0]
        names.append(f"c{cluster:0{width}d} " + "/".join(top) if top else f"c{cluster:0{width}d}")
    return names


class ClusterModel:
    """TF-IDF (or a sentence-transformers model) + SVD + k-means fitted on a sample of the
    questions, then applied to any question: the out-of-core form of `cluster_domains`
    (the same result when the sample is every question)."""

    def __init__(self, count: int, tfidf: object = None, svd: object = None,
                 kmeans: object = None, names: list[str] | None = None,
                 embed_model: str | None = None, batch_size: int = 64) -> None:
        self.count, self.tfidf, self.svd, self.kmeans = count, tfidf, svd, kmeans
        self.names = names or ["c00"]
        self.embed_model, self.batch_size = embed_model, batch_size

    @classmethod
    def fit(cls, texts: list[str], *, total: int, clusters: int | None = None,
            embed_model: str | None = None, seed: int = 0, batch_size: int = 64) -> ClusterModel:
        from sklearn.cluster import KMeans
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize
        from threadpoolctl import threadpool_limits

        count = min(clusters or auto_clusters(total), len(texts))
        if count < 2:
            return cls(1)
        tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", max_features=100_000,
                                min_df=2 if total >= 1000 else 1, dtype=np.float32)
        try:
            terms = tfidf.fit_transform(texts)
        except ValueError:  # no usable word at all (empty or stop-word-only texts)
            raise ValueError("clustering: the questions contain no words to cluster on; "
                             "give --domain-field or check --prompt-field") from None
        svd = None
        with threadpool_limits(1):  # one BLAS thread: faster on a busy 2-core machine
            if embed_model:
                vectors = _sentence_embeddings(texts, embed_model, batch_size)
            else:
                dimensions = min(_SVD_DIMENSIONS, terms.shape[1] - 1, len(texts) - 1)
                if dimensions >= 2:
                    svd = TruncatedSVD(n_components=dimensions, random_state=seed).fit(terms)
                    vectors = normalize(svd.transform(terms))
                else:
                    vectors = normalize(terms.toarray())
            kmeans = KMeans(n_clusters=count, n_init=3, random_state=seed).fit(vectors)
        labels = kmeans.labels_
        names = _cluster_names(terms, labels, count, tfidf.get_feature_names_out())
        return cls(count, tfidf, svd, kmeans, names, embed_model, batch_size)

    def assign(self, texts: list[str]) -> list[str]:
        """The domain name of each text."""
        if self.kmeans is None:
            return [self.names[0]] * len(texts)
        from sklearn.preprocessing import normalize
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            if self.embed_model:
                vectors = _sentence_embeddings(texts, self.embed_model, self.batch_size)
            elif self.svd is not None:
                vectors = normalize(self.svd.transform(self.tfidf.transform(texts)))
            else:
                vectors = normalize(self.tfidf.transform(texts).toarray())
            labels = self.kmeans.predict(vectors.astype(self.kmeans.cluster_centers_.dtype))
        return [self.names[label] for label in labels]
