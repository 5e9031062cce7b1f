from nextword.text.tokenize import whitespace_tokenize, word_tokenize


def test_whitespace_keeps_pretokenised_text():
    assert whitespace_tokenize(" the <unk> rose N % \n") == ["the", "<unk>", "rose", "N", "%"]


def test_english_punctuation_and_contractions():
    assert word_tokenize("Don't panic: it's 3.14, (roughly)!") == [
        "Don't", "panic", ":", "it's", "3.14", ",", "(", "roughly", ")", "!"]


def test_accented_latin_and_lowercasing():
    assert word_tokenize("Élan, CAFÉ-crème à Zürich.", lowercase=True) == [
        "élan", ",", "café-crème", "à", "zürich", "."]


def test_decomposed_accents_are_normalised():
    decomposed = "cafe\u0301"          # e + combining acute accent
    assert word_tokenize(decomposed) == ["café"]


def test_korean_hangul():
    assert word_tokenize("나는 학교에 갑니다. 정말?") == ["나는", "학교에", "갑니다", ".", "정말", "?"]


def test_cyrillic_greek_and_cjk_punctuation():
    assert word_tokenize("Привет, мир! Γειά σου «κόσμε»") == [
        "Привет", ",", "мир", "!", "Γειά", "σου", "«", "κόσμε", "»"]
    assert word_tokenize("東京は、晴れ。") == ["東京は", "、", "晴れ", "。"]


def test_punctuation_heavy_text():
    assert word_tokenize("...?!--") == [".", ".", ".", "?", "!", "-", "-"]
    assert word_tokenize("e-mail: a@b.com #tag") == ["e-mail", ":", "a", "@", "b.com", "#", "tag"]
