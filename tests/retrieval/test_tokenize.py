from __future__ import annotations

from pathlib import Path

import jieba

from retrieval.tokenize import ChineseTokenizer, read_lines, read_synonyms, strip_filler


def test_synonyms_fold_to_the_canonical_term(tokenizer: ChineseTokenizer) -> None:
    assert "驾驶证" in tokenizer.tokenize("驾照丢了怎么补办")
    assert "驾驶证" in tokenizer.tokenize("驾驶执照过期")
    assert "户口簿" in tokenizer.tokenize("户口本在哪里办")
    assert "社会保障卡" in tokenizer.tokenize("社保卡余额查询")
    assert "身份证" in tokenizer.tokenize("居民身份证")
    # common misspellings: 户口薄 for 户口簿, 公基金 for 公积金
    assert "户口簿" in tokenizer.tokenize("户口薄丢了")
    assert "公积金" in tokenizer.tokenize("公基金怎么取")


def test_traditional_and_full_width_input_is_normalised(tokenizer: ChineseTokenizer) -> None:
    assert tokenizer.normalize("駕駛執照") == "驾驶执照"
    assert tokenizer.normalize("ＡＢＣ１２３，　ｏｋ") == "abc123, ok"
    assert tokenizer.tokenize("駕照丟了") == tokenizer.tokenize("驾照丢了")
    assert tokenizer.tokenize("Ｃ１驾照") == tokenizer.tokenize("c1驾照")


def test_user_dictionary_keeps_domain_terms_whole(tokenizer: ChineseTokenizer) -> None:
    assert "公积金" in tokenizer.tokenize("公积金提取")
    assert "不动产登记" in tokenizer.tokenize("不动产登记需要哪些材料")
    assert "营业执照" in tokenizer.tokenize("营业执照年报")
    assert len(read_lines(Path("retrieval/data/userdict.txt"))) >= 150


def test_stopwords_and_punctuation_are_dropped(tokenizer: ChineseTokenizer) -> None:
    tokens = tokenizer.tokenize("您好，请问公积金怎么提取？谢谢！")
    assert "请问" not in tokens and "您好" not in tokens and "?" not in tokens
    assert {"公积金", "提取"} <= set(tokens)


def test_own_jieba_instance_leaves_the_global_one_alone(tokenizer: ChineseTokenizer) -> None:
    tokenizer.add_words(["临江市民卡"])
    assert "临江市民卡" in tokenizer.tokenize("临江市民卡充值")
    assert "临江市民卡" not in jieba.lcut("临江市民卡充值")


def test_bigrams_and_terms(tokenizer: ChineseTokenizer) -> None:
    assert tokenizer.bigrams("身体条件") == ["身体", "体条", "条件"]
    assert tokenizer.bigrams("C1、A") == ["c1", "a"]
    assert "#驾照" in tokenizer.terms("驾照") and "驾驶证" in tokenizer.terms("驾照")


def test_filler_is_stripped_from_queries() -> None:
    assert strip_filler("您好，请问驾照丢了怎么补办？谢谢！") == "驾照丢了怎么补办？"
    assert strip_filler("麻烦问一下，公积金怎么提取 急急急") == "公积金怎么提取"
    assert strip_filler("请问") == "请问"  # nothing left: keep the original
    # what the citizen says they are not asking about
    assert strip_filler("开个麻辣烫店，除了营业执照还要办什么证") == "开个麻辣烫店，还要办什么证"
    assert strip_filler("除了身份证以外，还能用什么证件坐飞机") == "还能用什么证件坐飞机"
    assert strip_filler("除了外地人还有谁能领") == "还有谁能领"
    assert strip_filler("除了") == "除了"
    assert strip_filler("除了公积金") == "除了公积金"  # nothing asked after it: kept


def test_synonym_file_is_editable(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.txt"
    path.write_text("# comment\n市民卡 一卡通 城市卡\n", "utf-8")
    assert read_synonyms(path) == {"市民卡": "市民卡", "一卡通": "市民卡", "城市卡": "市民卡"}
    custom = ChineseTokenizer(synonyms=path)
    assert "市民卡" in custom.tokenize("一卡通充值")
    assert custom.fingerprint != ChineseTokenizer().fingerprint
