"""Better predictions from models already trained, each result a LanguageModel of its own:

    mixture.py        linear (EM-fitted, SRILM compute-best-mix) and log-linear interpolation
    cache.py          the continuous cache of Grave et al. (2017) for the recurrent models
    dynamic.py        dynamic evaluation (Mikolov 2010; Krause et al. 2018)
    adapted.py        a recurrent model read with the cache and/or dynamic evaluation
    vocabmap.py       components with the same words in another order: id maps
    distributions.py  full next-word distributions at every position (log-linear needs them)
    tuning.py         the cache's L, θ, λ and dynamic evaluation's η, decay on validation text
    storage.py        folders that name their components (paths relative to the folder)
"""
