"""Knowledge-base fixtures: one store contract, run on SQLite in tmp_path and on PostgreSQL.

PostgreSQL is the test session's database (`pg_database` in tests/conftest.py), dropped at the
end; tests marked `postgres` fail when it is unreachable and CI is set, and are skipped otherwise.
Each test starts with no entries (other packages' tables there are left alone).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from knowledge_base.db import create_engine_for, migrate, sqlite_url
from knowledge_base.models import (
    EntryCreate,
    EntryKind,
    EntryStatus,
    GuideDetails,
    Location,
    Material,
    PolicyDetails,
    QAPair,
)
from knowledge_base.store import KnowledgeBaseStore


@pytest.fixture(scope="session")
def pg_url(pg_database: str) -> str:
    """This test session's PostgreSQL database (tests/conftest.py), migrated."""
    engine = create_engine_for(pg_database)
    migrate(engine)
    engine.dispose()
    return pg_database


@pytest.fixture
def postgres_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine_for(pg_url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE entries, entry_revisions RESTART IDENTITY"))
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    engine = create_engine_for(sqlite_url(os.path.join(tmp_path, "data")))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def store(engine: Engine) -> KnowledgeBaseStore:
    return KnowledgeBaseStore(engine)


@pytest.fixture
def other(engine: Engine) -> Iterator[KnowledgeBaseStore]:
    """A second store on its own pool, as another process (the import CLI) would have."""
    own = create_engine_for(engine.url.render_as_string(hide_password=False))
    yield KnowledgeBaseStore(own)
    own.dispose()


@pytest.fixture
def samples() -> list[EntryCreate]:
    return sample_entries()


def sample_entries() -> list[EntryCreate]:
    """A guide, a policy and FAQs with the awkward bits: commas, pipes, newlines, quotes, '='."""
    return [
        EntryCreate(
            id="guide-juzhuzheng",
            kind=EntryKind.GUIDE,
            title="居住证办理",
            text="在本市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的，可以申领居住证。",
            questions=["居住证怎么办", "外地人怎么办居住证？", "办居住证要多久, 需要什么"],
            keywords=["居住证", "流动人口"],
            tags=["户籍证件"],
            department="市公安局",
            region="全市",
            source_url="https://example.gov.cn/guide/juzhuzheng",
            guide=GuideDetails(
                eligibility="在本市居住半年以上的非本市户籍人员",
                materials=[
                    Material(name="居民身份证", original=1, copies=1),
                    Material(name="住所证明", original=1, note="租房合同或房产证"),
                ],
                steps=["网上预约", "窗口受理", "领取证件"],
                time_limit="15个工作日",
                fee="免费",
                locations=[Location(name="居住地派出所", address="各区派出所", hours="工作日")],
                phone="12345",
                online_url="https://example.gov.cn/ban",
                legal_basis="《居住证暂行条例》",
            ),
        ),
        EntryCreate(
            id="policy-gjj-2024",
            kind=EntryKind.POLICY,
            title="住房公积金贷款额度调整政策解读",
            text="首套房贷款最高额度提高至120万元。\n二套房维持80万元。",
            keywords=["公积金", "贷款额度"],
            department="市住房公积金管理中心",
            status=EntryStatus.PUBLISHED,
            policy=PolicyDetails(
                issuer="市住房公积金管理委员会",
                doc_number="市公积金〔2024〕3号",
                published_on=dt.date(2024, 3, 1),
                effective_on=dt.date(2024, 4, 1),
                key_points=[QAPair(question="什么时候开始执行？", answer="2024年4月1日起。")],
                original_url="https://example.gov.cn/policy/3",
            ),
        ),
        EntryCreate(
            id="faq-shebao-1",
            title="社保卡丢了怎么补办",
            text='可携带身份证到任一社保卡服务网点补办，也可在"掌上社保"App申请，工本费20元。',
            questions=["社保卡丢失补办", "社保卡补办去哪里|在哪办"],
            keywords=["社保卡", "补办"],
            department="市人力资源和社会保障局",
        ),
        EntryCreate(
            id="faq-hukou-2",
            title="新生儿怎么上户口",
            text="=出生后一个月内，凭出生医学证明和父母户口簿到派出所申报。",
            questions=["小孩上户口需要什么手续？"],
            keywords=["[新生儿]", "户口, 申报"],
            tags=["户籍证件", "婚姻生育"],
            status=EntryStatus.DRAFT,
        ),
        EntryCreate(id="faq-empty-answer", title="公租房申请条件有哪些？", text=""),
    ]
