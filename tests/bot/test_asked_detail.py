"""Which detail a whole question asks about, and the matter left when it is taken away."""

from __future__ import annotations

import pytest

from bot.followup import (
    about_last_answer,
    asked_field,
    context_for,
    detect_field,
    elliptical_rest,
    matter_of,
    same_matter,
)


@pytest.mark.parametrize(("question", "field", "matter"), [
    ("办居住证要多久", "time_limit", "办居住证"),
    ("补办身份证要多少钱", "fee", "补办身份证"),
    ("结婚登记收费吗", "fee", "结婚登记"),
    ("驾照换证的咨询电话是多少", "phone", "驾照换证"),
    ("公积金提取要什么条件", "eligibility", "公积金提取"),
    ("育儿补贴外地户口能领吗", "eligibility", "育儿补贴外地户口"),
    ("护照办理需要几天", "time_limit", "护照"),
    # an amount received is not a fee
    ("失业金能领多少钱", None, None),
    ("高龄津贴每月发多少钱", None, None),
    ("低保一个月多少钱", None, None),
    ("养老保险一年交多少钱", None, None),
    ("公积金能贷多少钱", None, None),
    # a word that names the fee itself is the fee, whatever else is said
    ("补领身份证要多少钱", "fee", "补领身份证"),
    ("领结婚证要钱吗", "fee", "领结婚证"),
    ("办护照费用多少", "fee", "办护照"),
    # how long a document stays valid, or a deadline the citizen must meet: not 办理时限
    ("居住证有效期多久", None, None),
    ("新生儿出生多久内要上户口", None, None),
    ("身份证多久换一次", None, None),
    ("居住证多长时间以内要续签", None, None),
    ("失业金能领多久", None, None),
    ("居住证有效期多久，续签收费吗", "fee", "居住证有效期多久，续签"),
    # no detail, or nothing before it
    ("身份证丢了怎么补办", None, None),
    ("多少钱", "fee", None),
])
def test_detail_and_matter(question: str, field: str | None, matter: str | None) -> None:
    assert asked_field(question) == field
    assert matter_of(question) == matter


@pytest.mark.parametrize(("follow_up", "field"), [
    ("要带什么材料", "materials"),
    ("材料", "materials"),
    ("需要哪些证件", "materials"),
    ("多久能办好", "time_limit"),
    ("要钱吗", "fee"),
    ("工本费多少", "fee"),
    # an amount paid out is not what the service costs
    ("一个月多少钱", None),
    ("能领多少钱", None),
    # how long a benefit is paid is not the office's time limit
    ("能领多久", None),
    ("有效期多久", "expires_on"),
    ("在哪办", "location"),
    # a materials noun that another detail is asked about is not the materials field: a new
    # question, not "show the last guide's materials"
    ("补办证件要多久", None),
    ("材料交了几天能好", None),
    # a new matter with its materials
    ("护照要带什么材料", None),
    # office hours are where-and-when, not who may ("能办吗"); coming in person or sending
    # someone is who may
    ("周末能办吗", "location"),
    ("可以代办吗", "eligibility"),
    ("需要本人去吗", "eligibility"),
])
def test_follow_up_field(follow_up: str, field: str | None) -> None:
    assert detect_field(follow_up) == field


@pytest.mark.parametrize(("question", "rest"), [
    ("一个月多少钱", ""),
    ("最多能贷多少", ""),
    ("每个月发多少", ""),
    ("外地人能领吗", "外地人"),
    ("身份证丢了怎么补办", None),
    ("高新技术企业认定有啥好处", None),
])
def test_what_an_elliptical_question_names(question: str, rest: str | None) -> None:
    assert elliptical_rest(question) == rest


@pytest.mark.parametrize("question", [
    "一个月多少钱", "能领多少钱", "最多能贷多少", "外地人能办吗", "加急呢", "二胎呢", "小孩能办吗",
    "有车能办吗", "过期了怎么办", "怎么申请", "能领多久",
])
def test_short_questions_about_the_last_answer(question: str) -> None:
    assert about_last_answer(question)


@pytest.mark.parametrize("question", [
    # a matter of its own
    "那护照呢", "那离婚呢", "港澳通行证呢", "身份证丢了怎么补办",
    # remarks and small talk, not questions about the matter
    "你叫什么", "真的吗", "是吗", "为什么", "啥意思", "然后呢", "还有呢", "哪个好", "在吗",
    "有人吗", "哈哈", "好的", "今天天气怎么样",
])
def test_what_is_not_about_the_last_answer(question: str) -> None:
    assert not about_last_answer(question)


@pytest.mark.parametrize(("title", "other", "same"), [
    ("临江低保标准调整解读", "最低生活保障（低保）申请", True),
    ("临江市住房公积金个人住房贷款管理办法（2024年）解读", "住房公积金个人住房贷款申请", True),
    ("临江市育儿补贴实施办法解读", "育儿补贴申领", True),
    ("临江市育儿补贴实施办法解读", "生育津贴和生育医疗费用申领", False),
])
def test_titles_on_the_same_matter(title: str, other: str, same: bool) -> None:
    assert same_matter(title, other) is same


@pytest.mark.parametrize(("title", "question", "context"), [
    # another case of the same matter: searched with the matter, not the last case
    ("居民身份证丢失补领", "那换领呢", "居民身份证"),
    ("普通护照首次申领和到期换发", "丢了补办呢", "护照"),
    # the same case, or no case named: the whole title
    ("居民身份证丢失补领", "补领要多久", "居民身份证丢失补领"),
    ("最低生活保障（低保）申请", "一个月多少钱", "最低生活保障（低保）申请"),
])
def test_what_a_short_question_is_searched_with(title: str, question: str, context: str) -> None:
    assert context_for(title, question) == context

