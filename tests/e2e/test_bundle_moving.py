"""Moving into the city, filed in one go (a "bundle"), by 山本 結衣 (persona `mover`, moving from
船橋市 with her 5-year-old son 山本 湊).

On a phone: from the home page through the moving screening to the checklist, login with the
card when the bundle starts, the shared questions once (contact, both addresses, who moves), then
only what each of the five procedures still needs, one check page, ONE signature password for
the two documents that need a signature, the done page with the ISB reference, a counter booking
from the bundle's page, the booking shown back on it and the visit plan with the QR ticket. The
pages visited prove "answered once": fewer member pages than the procedures' own steps, none of
the steps the shared questions answered (児童手当's 請求の理由, say), and every shared answer
shown once on the check page.

By keyboard only: the same bundle with 転入予約 and 子ども医療費助成 only (no signature needed).

The dates follow the server's real date (Asia/Tokyo): the move was made last week (国民健康保険's
date of change may not be in the future) and the visit is within the 14 days after it. axe runs on
every page.

A move two weeks ahead (issue 22): the checklist offers what can be filed before the move and says
when to come back for the rest; the resident leaves the bundle part-way, finds it in 申請一覧,
every answer is still there, and the bundle completes.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from portal import japanese
from portal.catalog import load_catalog, logic
from portal.clock import TOKYO
from portal.office_days import next_open_day
from tests.e2e.people import by_label, group, tab_to
from tests.e2e.test_hoiku import sign_with_card
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import PERSONAS, use_card
from tests.e2e.test_my_applications import sign_in

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
ALL_FIVE = [
    "転入予約（来庁予定の連絡）",
    "国民健康保険の加入・脱退の届出",
    "児童手当の認定請求",
    "子ども医療費助成の申請",
    "保育施設等の利用申込",
]
PROCEDURE_IDS = {
    "転入予約（来庁予定の連絡）": "tennyu-yoyaku",
    "国民健康保険の加入・脱退の届出": "kokuho-kanyu-dattai",
    "児童手当の認定請求": "jidoteate-nintei",
    "子ども医療費助成の申請": "kodomo-iryohi",
    "保育施設等の利用申込": "hoiku-riyou",
}
POSITION = re.compile(r"全(\d+)ページ中(\d+)ページ目")


def _today() -> dt.date:
    return dt.datetime.now(TOKYO).date()


def _wareki(day: dt.date) -> str:
    return japanese.format_wareki(day)


MOVED = _today() - dt.timedelta(days=7)  # last week
AHEAD = _today() + dt.timedelta(days=14)
VISIT = next_open_day(_today() + dt.timedelta(days=2))  # the counter is open that day


def radio(scope, legend: str, option: str):
    return group(scope, legend).get_by_role("radio", name=option, exact=True)


def next_step(page) -> None:
    page.get_by_role("button", name="次へ進む").click()


class Journey:
    """Where the resident has been inside the bundle: each page's place in the bundle
    ("全Nページ中nページ目") and the member steps it showed."""

    def __init__(self, page, audit) -> None:
        self.page, self.audit = page, audit
        self.positions: list[tuple[int, int]] = []
        self.member_steps: list[tuple[str, str]] = []

    def at(self, heading: str, context: str) -> None:
        """On the page titled `heading`, of the shared questions or of procedure `context`."""
        page = self.page
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        caption = page.locator(".caption").first
        expect(caption).to_contain_text(f"引越し（{context}）")
        expect(caption).to_contain_text(POSITION)
        total, position = (int(n) for n in POSITION.search(caption.inner_text()).groups())
        self.positions.append((total, position))
        parts = urlsplit(page.url).path.strip("/").split("/")
        if context != "まとめて申請（共通の質問）":
            assert parts[2] == "apply" and parts[3] == PROCEDURE_IDS[context], page.url
            self.member_steps.append((parts[3], parts[4]))
        else:
            assert parts[2] == "shared", page.url
        self.audit(page)

    def assert_one_page_after_another(self) -> None:
        """Pages 1, 2, 3, ... and the last page's total is the number of pages there were."""
        assert [p for _, p in self.positions] == list(range(1, len(self.positions) + 1))
        assert self.positions[-1][0] == len(self.positions), self.positions

    def assert_same_total_on_every_page(self) -> None:
        """Nothing the resident answered changed which pages there are: every page says the
        same 全Nページ."""
        totals = [total for total, _ in self.positions]
        assert set(totals) == {len(self.positions)}, f"全Nページ shown page by page: {totals}"


def screen_moving_in(page, audit, moved: dt.date) -> None:
    """From the home page through the moving screening to the checklist."""
    page.goto("/")
    audit(page)
    page.get_by_role("link", name=re.compile("くらしのできごとから必要な手続を調べる")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("くらしのできごとから手続を探す")
    audit(page)
    page.get_by_role("link", name="引越し").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("引越しについて教えてください")
    audit(page)
    radio(page, "どのような引越しですか", "ほかの市区町村から、いすみ市へ引っ越す").check()
    by_label(page, "引越しの日（新しい住所に住み始める日）").fill(_wareki(moved))
    radio(page, "一緒に引っ越す方に、中学生までのお子さんがいますか", "はい").check()
    radio(page, "いま入っている健康保険", "国民健康保険").check()
    radio(page, "一緒に引っ越す方に、介護保険の認定を受けている方がいますか", "いいえ").check()
    page.get_by_role("button", name="必要な手続を見る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのやることリスト")


def test_moving_in_bundle_on_a_phone(make_page, audit):
    page = make_page("phone")
    journey = Journey(page, audit)
    screen_moving_in(page, audit, MOVED)

    # The checklist offers the five online procedures, all chosen; not logged in yet.
    bundle_section = page.get_by_role("region", name="オンラインの手続を、まとめて申請する")
    expect(bundle_section).to_be_visible()
    expect(bundle_section).to_contain_text("マイナンバーカードでログインしてから始めます")
    chosen = group(page, "まとめて申請する手続")
    expect(chosen.get_by_role("checkbox")).to_have_count(len(ALL_FIVE))
    for title in ALL_FIVE:
        expect(chosen.get_by_role("checkbox", name=title, exact=True)).to_be_checked()
    audit(page)
    page.get_by_role("button", name="選んだ手続をまとめて申請する").click()

    # Login first, with the card; back on the checklist, start again.
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    audit(page)
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    audit(page)
    use_card(page, "mover")
    expect(page.get_by_text("山本 結衣 さん")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのやることリスト")
    for title in ALL_FIVE:
        expect(
            group(page, "まとめて申請する手続").get_by_role("checkbox", name=title, exact=True)
        ).to_be_checked()
    audit(page)
    page.get_by_role("button", name="選んだ手続をまとめて申請する").click()

    # --- the shared questions, once ---
    shared = "まとめて申請（共通の質問）"
    journey.at("連絡先", shared)
    by_label(page, "日中に連絡のつく電話番号").fill("090-1234-5678")
    by_label(page, "メールアドレス").fill("yui@example.jp")
    next_step(page)

    journey.at("前の住所と新しい住所", shared)
    previous = group(page, "前の住所（いまの住民登録の住所）")
    by_label(previous, "郵便番号").fill("273-0005")
    by_label(previous, "都道府県").fill("千葉県")
    by_label(previous, "市区町村").fill("船橋市")
    by_label(previous, "町名").fill("本町")
    by_label(previous, "番地・号").fill("4丁目8番2号")
    by_label(previous, "建物名・部屋番号").fill("ベイハイツ船橋502号室")
    new = group(page, "引越し先の新しい住所")
    by_label(new, "郵便番号").fill("298-0004")
    new.get_by_role("button", name="郵便番号から住所を入力する").click()
    new = group(page, "引越し先の新しい住所")
    expect(by_label(new, "市区町村")).to_have_value("いすみ市")
    expect(by_label(new, "町名")).to_have_value("大原")
    expect(by_label(group(page, "前の住所（いまの住民登録の住所）"), "番地・号")).to_have_value(
        "4丁目8番2号"
    )
    audit(page)
    by_label(new, "番地・号").fill("2000番地")
    next_step(page)

    # Who moves: mother and son from the city's records; the resident checks 続柄 and cards.
    journey.at("一緒に引っ越す方", shared)
    movers = group(page, "引っ越す方")
    yui, minato = group(movers, "引っ越す方1"), group(movers, "引っ越す方2")
    expect(group(movers, "引っ越す方3")).to_have_count(0)
    expect(by_label(yui, "氏名")).to_have_value("山本 結衣")
    expect(by_label(minato, "氏名")).to_have_value("山本 湊")
    expect(by_label(minato, "生年月日")).to_have_value("令和3年6月3日")
    by_label(yui, "新しい世帯の世帯主との続柄").select_option(label="世帯主")
    radio(yui, "マイナンバーカードを持っていますか", "はい").check()
    by_label(minato, "新しい世帯の世帯主との続柄").select_option(label="子")
    radio(minato, "マイナンバーカードを持っていますか", "いいえ").check()
    next_step(page)

    # --- 転入予約: the notifier (from the card), then what the shared answers did not say ---
    tennyu = "転入予約（来庁予定の連絡）"
    journey.at("連絡をする方", tennyu)
    expect(by_label(group(page, "連絡をする方"), "氏名")).to_have_value("山本 結衣")
    expect(by_label(page, "日中に連絡のつく電話番号")).to_have_count(0)
    next_step(page)
    journey.at("前の住所と新しい住所", tennyu)
    expect(group(page, "前の住所（いまの住民登録の住所）")).to_have_count(0)
    radio(page, "前の住所地での転出届", "マイナポータルなどで転出届をした").check()
    next_step(page)
    journey.at("引っ越す日と来庁の日", tennyu)
    expect(by_label(page, "新しい住所に住み始める日")).to_have_count(0)
    by_label(page, "市民課の窓口に来る予定の日").fill(_wareki(VISIT))
    radio(page, "来る予定の時間帯", "午前（8時30分から12時まで）").check()
    next_step(page)
    journey.at("一緒に引っ越す方", tennyu)
    expect(group(page, "転入する方")).to_have_count(0)
    radio(page, "いすみ市での世帯", "新しく世帯をつくる").check()
    next_step(page)
    journey.at("あわせて必要な手続", tennyu)
    next_step(page)

    # --- 国民健康保険: the kind, date and members came from the shared answers ---
    kokuho = "国民健康保険の加入・脱退の届出"
    journey.at("届け出る方と届出の内容", kokuho)
    expect(group(page, "住所")).to_have_count(0)
    expect(group(page, "届出の区分")).to_have_count(0)
    expect(group(page, "加入・脱退する方")).to_have_count(0)
    radio(page, "世帯主との関係", "わたしが世帯主です").check()
    next_step(page)
    journey.at("健康保険と確認の書類", kokuho)
    radio(page, "やめた健康保険の種類", "その他（船員保険など）").check()
    # the certificate comes later: its insurer is typed now (asked only then; the page also
    # holds the hidden insurer question of a resident leaving 国保)
    radio(page, "書類の送り方", "まだ手元にないので、届いたら郵送か窓口で出す").check()
    by_label(page, "保険者の名称").filter(visible=True).fill("船橋市")
    next_step(page)

    # --- 児童手当 ---
    teate = "児童手当の認定請求"
    journey.at("請求する方と受取口座", teate)
    by_label(page, "請求する方の個人番号（マイナンバー）").fill(PERSONAS["mover"]["my_number"])
    radio(page, "請求する方が加入している年金", "国民年金（自営業など）").check()
    radio(page, "請求する方は公務員（国・地方公共団体の常勤の職員）ですか", "いいえ").check()
    radio(page, "受取口座", "公金受取口座（マイナポータルに登録した口座）を使う").check()
    next_step(page)
    journey.at("配偶者とお子さん", teate)
    radio(page, "配偶者（事実上の婚姻関係にある方を含む）がいますか", "いいえ").check()
    expect(group(page, "育てているお子さん")).to_have_count(0)  # 湊, from the shared answers
    radio(page, "この中に、あなたと別に暮らしているお子さんがいますか", "いいえ").check()
    radio(
        page,
        "高校生年代を過ぎて、22歳になった後の最初の3月31日までのお子さんで、"
        "あなたが生活費を負担している方がいますか",
        "いいえ",
    ).check()
    next_step(page)

    # --- 子ども医療費助成 ---
    iryohi = "子ども医療費助成の申請"
    journey.at("申請する保護者と助成を受ける子ども", iryohi)
    radio(page, "子どもとの関係", "母").check()
    next_step(page)
    journey.at("子どもの健康保険と受給券の受け取り", iryohi)
    radio(page, "子どもが入っている健康保険", "いすみ市の国民健康保険").check()
    radio(page, "受け取り方法", "郵送で受け取る").check()
    next_step(page)

    # --- 保育: 湊 is already there (under 6, from who moves); only his allergy is asked ---
    hoiku = "保育施設等の利用申込"
    journey.at("入所を希望する子ども", hoiku)
    child = group(group(page, "入所を希望する子ども"), "子ども1")
    expect(by_label(child, "氏名")).to_have_value("山本 湊")
    expect(group(page, "子ども2")).to_have_count(0)
    radio(child, "食物アレルギーがありますか", "いいえ").check()
    next_step(page)
    journey.at("希望する施設", hoiku)
    by_label(page, "第1希望").select_option(label="おおはら保育所（デモ）")
    by_label(page, "入所を希望する日").fill("令和9年4月1日")
    next_step(page)
    journey.at("保護者の状況", hoiku)
    radio(page, "保育が必要な理由", "仕事を探している").check()
    next_step(page)
    journey.at("配偶者・パートナーと世帯の所得", hoiku)
    radio(page, "同居している配偶者・パートナーがいますか", "いいえ").check()
    next_step(page)

    # --- answered once: fewer pages than the procedures' own steps ---
    journey.assert_one_page_after_another()
    assert len(journey.positions) == 3 + len(journey.member_steps)
    # Filed one by one, with the same answers, the five procedures have these pages.
    alone = {
        pid: [
            s.id
            for s in logic.applicable_steps(
                CATALOG.procedure(pid), {"kind": "join", "guardian_work": "job-seeking"}, _today()
            )
        ]
        for pid in PROCEDURE_IDS.values()
    }
    applicable = sum(len(steps) for steps in alone.values())
    assert len(journey.member_steps) < applicable, (journey.member_steps, applicable)
    for procedure_id, step_id in (
        ("jidoteate-nintei", "reason"),  # why, when and the previous address: shared
        ("hoiku-riyou", "guardian"),  # phone, e-mail and the new address
    ):
        assert step_id in alone[procedure_id]
        assert (procedure_id, step_id) not in journey.member_steps, journey.member_steps

    # --- the check page: the shared answers once, then each procedure once ---
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text("次の5件の手続を、まとめて申請します。")).to_be_visible()
    expect(page.get_by_role("heading", name="すべての手続に共通の内容")).to_have_count(1)
    for title in ALL_FIVE:
        expect(page.get_by_role("heading", level=2, name=title, exact=True)).to_have_count(1)
    terms = page.locator("dt")
    for label in (
        "日中に連絡のつく電話番号",
        "メールアドレス",
        "前の住所（いまの住民登録の住所）",
        "引越し先の新しい住所",
        "引っ越す方",
    ):
        expect(terms.filter(has_text=re.compile(rf"^{re.escape(label)}$"))).to_have_count(1)
    expect(page.get_by_text("09012345678")).to_have_count(1)  # kept as digits
    expect(page.get_by_text("yui@example.jp")).to_have_count(1)
    expect(page.get_by_text(re.compile("船橋市本町4丁目8番2号"))).to_have_count(1)
    expect(page.get_by_text(re.compile("いすみ市大原2000番地"))).to_have_count(1)
    # What each procedure asked on its own pages is there too.
    expect(terms.filter(has_text=re.compile("^前の住所地での転出届$"))).to_have_count(1)
    expect(terms.filter(has_text=re.compile("^保険者の名称$"))).to_have_count(1)
    expect(terms.filter(has_text=re.compile("^第1希望$"))).to_have_count(1)
    audit(page)

    page.get_by_role("checkbox", name="上の内容を確認し、5件の手続をまとめて申請します").check()
    page.get_by_role("button", name="署名してまとめて申請する").click()

    # One signature password for both documents that need a signature.
    expect(page.get_by_role("heading", level=2, name="電子署名する文書")).to_be_visible()
    documents = page.get_by_role("list").filter(has_text="（申請書）").get_by_role("listitem")
    expect(documents).to_have_text(
        ["児童手当の認定請求（申請書）", "保育施設等の利用申込（申請書）"]
    )
    audit(page)
    sign_with_card(page, "mover")

    expect(page.get_by_role("heading", level=1)).to_have_text("まとめて申請しました")
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"ISB-[0-9A-Z]{4}-[0-9A-Z]{4}", reference), reference
    expect(page.get_by_text("5件の手続を、")).to_be_visible()
    for title in ALL_FIVE:
        part = page.locator(".checklist__item").filter(
            has=page.get_by_role("heading", name=title, exact=True)
        )
        expect(part).to_contain_text("市で手続中")
        expect(part).to_contain_text(re.compile(r"受付番号 ISM-"))
    for counter_title in ("転入届", "マイナンバーカードの受け取り"):
        part = page.locator(".checklist__item").filter(
            has=page.get_by_role("heading", name=counter_title, exact=True)
        )
        expect(part).to_contain_text("これから")
    expect(page.get_by_role("heading", level=2, name="窓口に行く日")).to_be_visible()
    expect(
        page.get_by_text(re.compile("転入届、マイナンバーカードの受け取り）を、1回の予約"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile("約60分"))).to_be_visible()
    audit(page)

    # --- one booking for the counter visit, from the bundle's page ---
    page.get_by_role("link", name="窓口に行く日時を予約する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("市民課 窓口")
    expect(
        page.get_by_text(f"まとめて申請した手続（受付番号 {reference}）のための予約です。")
    ).to_be_visible()
    services = group(page, "用件（いくつでも選べます）")
    expect(services.get_by_role("checkbox", name=re.compile("^転入届"))).to_be_checked()
    expect(
        services.get_by_role("checkbox", name=re.compile("^マイナンバーカードの受け取り"))
    ).to_be_checked()
    audit(page)
    free_days = page.get_by_role("link", name=re.compile(r"空きあり$"))
    if not free_days.count():  # late in the month: the first free day is in the next one
        page.get_by_role("link", name=re.compile(r"^次の月")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("市民課 窓口")
        audit(page)
    free_days.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("の時間を選ぶ$"))
    audit(page)
    first_time = page.get_by_role("radio").first
    first_time.check()
    by_label(page, "お名前").fill("山本 結衣")
    by_label(page, "メールアドレス").fill("yui@example.jp")
    page.get_by_role("button", name="この内容で予約する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("予約しました")
    booked = page.locator(".panel__body").inner_text()
    audit(page)

    # Back to the bundle's page through the list of applications: the booking is shown.
    page.get_by_role("link", name="申請一覧").click()
    expect(page.get_by_role("heading", name="まとめて申請した手続")).to_be_visible()
    audit(page)
    page.get_by_role("listitem").filter(has_text=reference).get_by_role(
        "link", name=re.compile(r"^手続の状況・窓口の予約を見る\s*（引越し）$")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("引越しの手続の状況")
    expect(page.get_by_text(f"予約：{booked}（市民課 窓口）")).to_be_visible()
    expect(page.get_by_role("link", name="窓口に行く日時を予約する")).to_have_count(0)
    audit(page)

    page.get_by_role("link", name="来庁の計画を表示・印刷する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("来庁の計画")
    expect(page.get_by_text(f"まとめて申請（受付番号 {reference}）")).to_be_visible()
    expect(page.get_by_text(booked)).to_be_visible()
    expect(page.get_by_role("img", name="予約票のQRコード（窓口で読み取ります）")).to_be_visible()
    for title in ALL_FIVE:
        expect(
            page.get_by_role("listitem").filter(has_text=f"{title}（受付番号 ISM-")
        ).to_have_count(1)
    audit(page)

    # Last, so that everything above is checked whatever this says: the total the resident was
    # told on every page, shared questions included, was the number of pages there were.
    journey.assert_same_total_on_every_page()


def test_a_move_two_weeks_ahead_left_part_way_and_resumed(make_page, audit):
    page = make_page("phone")
    sign_in(page, audit, "mover")
    screen_moving_in(page, audit, AHEAD)

    # Before the move: 転入予約 and 保育 only; the others say when to come back.
    expect(page.get_by_text("国民健康保険の加入の届出（住み始めてから）")).to_be_visible()
    expect(
        page.get_by_text("児童手当の認定請求・子ども医療費助成の申請（住み始めてから）")
    ).to_be_visible()
    chosen = group(page, "まとめて申請する手続")
    expect(chosen.get_by_role("checkbox")).to_have_count(2)
    audit(page)
    chosen.get_by_role("checkbox", name="保育施設等の利用申込", exact=True).uncheck()
    page.get_by_role("button", name="選んだ手続をまとめて申請する").click()

    journey = Journey(page, audit)
    shared = "まとめて申請（共通の質問）"
    journey.at("連絡先", shared)
    by_label(page, "日中に連絡のつく電話番号").fill("090-1234-5678")
    by_label(page, "メールアドレス").fill("yui@example.jp")
    next_step(page)
    journey.at("前の住所と新しい住所", shared)
    previous = group(page, "前の住所（いまの住民登録の住所）")
    for label, value in (
        ("郵便番号", "273-0005"),
        ("都道府県", "千葉県"),
        ("市区町村", "船橋市"),
        ("町名", "本町"),
        ("番地・号", "4丁目8番2号"),
    ):
        by_label(previous, label).fill(value)
    new = group(page, "引越し先の新しい住所")
    for label, value in (
        ("郵便番号", "298-0004"),
        ("都道府県", "千葉県"),
        ("市区町村", "いすみ市"),
        ("町名", "大原"),
        ("番地・号", "2000番地"),
    ):
        by_label(new, label).fill(value)
    next_step(page)
    journey.at("一緒に引っ越す方", shared)

    # She leaves, and comes back through 申請一覧: every answer is still there.
    page.get_by_role("link", name="申請一覧").click()
    unsent = (
        page.get_by_role("listitem")
        .filter(has=page.get_by_role("heading", name="引越し（1件の手続）"))
        .filter(has_text="入力中")
    )
    expect(unsent).to_have_count(1)
    audit(page)
    unsent.get_by_role("link", name=re.compile("^続きを入力する")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("一緒に引っ越す方")
    page.get_by_role("link", name="戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("前の住所と新しい住所")
    expect(by_label(group(page, "前の住所（いまの住民登録の住所）"), "番地・号")).to_have_value(
        "4丁目8番2号"
    )
    expect(by_label(group(page, "引越し先の新しい住所"), "番地・号")).to_have_value("2000番地")
    page.get_by_role("link", name="戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("連絡先")
    expect(by_label(page, "日中に連絡のつく電話番号")).to_have_value("09012345678")
    expect(by_label(page, "メールアドレス")).to_have_value("yui@example.jp")
    next_step(page)
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("一緒に引っ越す方")
    movers = group(page, "引っ越す方")
    yui, minato = group(movers, "引っ越す方1"), group(movers, "引っ越す方2")
    by_label(yui, "新しい世帯の世帯主との続柄").select_option(label="世帯主")
    radio(yui, "マイナンバーカードを持っていますか", "はい").check()
    by_label(minato, "新しい世帯の世帯主との続柄").select_option(label="子")
    radio(minato, "マイナンバーカードを持っていますか", "いいえ").check()
    next_step(page)

    # 転入予約 takes the planned date (from the screening) and a visit after it.
    expect(page.get_by_role("heading", level=1)).to_have_text("連絡をする方")
    next_step(page)
    radio(page, "前の住所地での転出届", "マイナポータルなどで転出届をした").check()
    next_step(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("引っ越す日と来庁の日")
    by_label(page, "市民課の窓口に来る予定の日").fill(
        _wareki(next_open_day(AHEAD + dt.timedelta(days=1)))
    )
    radio(page, "来る予定の時間帯", "午前（8時30分から12時まで）").check()
    next_step(page)
    radio(page, "いすみ市での世帯", "新しく世帯をつくる").check()
    next_step(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("あわせて必要な手続")
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text(japanese.format_both(AHEAD)).first).to_be_visible()  # the move date
    audit(page)
    page.get_by_role("checkbox", name="上の内容を確認し、1件の手続をまとめて申請します").check()
    page.get_by_role("button", name="まとめて申請する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("まとめて申請しました")
    audit(page)


# --- by keyboard only ---------------------------------------------------------------------------


def focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def press(page, locator, key: str = "Enter") -> None:
    """Tab to the control and press a key on it."""
    tab_to(page, locator)
    page.keyboard.press(key)


def type_into(page, locator, text: str) -> None:
    tab_to(page, locator)
    page.keyboard.type(text)


def choose(page, fieldset, option: str) -> None:
    """Pick a radio button as a keyboard user does: Tab into the group (it lands on the
    checked button, or the first), then Space on it or the arrow keys to the one wanted."""
    radios = fieldset.get_by_role("radio")
    target = fieldset.get_by_role("radio", name=option, exact=True)
    checked = fieldset.locator("input[type=radio]:checked")
    tab_to(page, checked.first if checked.count() else radios.first)
    if focused(target):
        page.keyboard.press("Space")
    for _ in range(radios.count()):
        if target.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(target).to_be_checked()


def next_by_keyboard(page) -> None:
    press(page, page.get_by_role("button", name="次へ進む"))


def test_moving_in_bundle_by_keyboard_only(make_page, audit):
    page = make_page("desktop")
    page.goto("/")
    audit(page)

    # Login with the card.
    press(page, page.get_by_role("link", name="ログイン", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    audit(page)
    press(page, page.get_by_role("button", name="マイナンバーカードでログインする"))
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    audit(page)
    choose(page, group(page, "使うカード（デモ用）"), PERSONAS["mover"]["card_label"])
    page.keyboard.press("Tab")
    expect(by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）")).to_be_focused()
    page.keyboard.type(PERSONAS["mover"]["auth_pin"])
    page.keyboard.press("Enter")
    expect(page.get_by_text("山本 結衣 さん")).to_be_visible()
    audit(page)

    # The screening.
    press(page, page.get_by_role("link", name=re.compile("くらしのできごとから必要な手続を調べる")))
    expect(page.get_by_role("heading", level=1)).to_have_text("くらしのできごとから手続を探す")
    audit(page)
    press(page, page.get_by_role("link", name="引越し"))
    expect(page.get_by_role("heading", level=1)).to_have_text("引越しについて教えてください")
    audit(page)
    choose(page, group(page, "どのような引越しですか"), "ほかの市区町村から、いすみ市へ引っ越す")
    type_into(page, by_label(page, "引越しの日（新しい住所に住み始める日）"), _wareki(MOVED))
    choose(page, group(page, "一緒に引っ越す方に、中学生までのお子さんがいますか"), "はい")
    choose(page, group(page, "いま入っている健康保険"), "国民健康保険")
    choose(
        page, group(page, "一緒に引っ越す方に、介護保険の認定を受けている方がいますか"), "いいえ"
    )
    press(page, page.get_by_role("button", name="必要な手続を見る"))
    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのやることリスト")

    # Only 転入予約 and 子ども医療費助成: Space on the three others.
    chosen = group(page, "まとめて申請する手続")
    for title in ("国民健康保険の加入・脱退の届出", "児童手当の認定請求", "保育施設等の利用申込"):
        press(page, chosen.get_by_role("checkbox", name=title, exact=True), "Space")
    for title in ALL_FIVE:
        box = chosen.get_by_role("checkbox", name=title, exact=True)
        if title in ("転入予約（来庁予定の連絡）", "子ども医療費助成の申請"):
            expect(box).to_be_checked()
        else:
            expect(box).not_to_be_checked()
    audit(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="選んだ手続をまとめて申請する")).to_be_focused()
    page.keyboard.press("Enter")

    # The shared questions: only those the two procedures use.
    journey = Journey(page, audit)
    shared = "まとめて申請（共通の質問）"
    journey.at("連絡先", shared)
    type_into(page, by_label(page, "日中に連絡のつく電話番号"), "090-1234-5678")
    page.keyboard.press("Tab")
    expect(by_label(page, "メールアドレス")).to_be_focused()
    page.keyboard.type("yui@example.jp")
    page.keyboard.press("Enter")  # Enter in a text box is 次へ進む

    journey.at("前の住所と新しい住所", shared)
    previous = group(page, "前の住所（いまの住民登録の住所）")
    type_into(page, by_label(previous, "郵便番号"), "273-0005")
    press(page, previous.get_by_role("button", name="郵便番号から住所を入力する"))
    previous = group(page, "前の住所（いまの住民登録の住所）")
    expect(by_label(previous, "町名")).to_have_value("本町")
    type_into(page, by_label(previous, "番地・号"), "4丁目8番2号")
    new = group(page, "引越し先の新しい住所")
    type_into(page, by_label(new, "郵便番号"), "298-0004")
    press(page, new.get_by_role("button", name="郵便番号から住所を入力する"))
    new = group(page, "引越し先の新しい住所")
    expect(by_label(new, "町名")).to_have_value("大原")
    expect(by_label(group(page, "前の住所（いまの住民登録の住所）"), "番地・号")).to_have_value(
        "4丁目8番2号"
    )
    audit(page)
    type_into(page, by_label(new, "番地・号"), "2000番地")
    page.keyboard.press("Enter")

    journey.at("一緒に引っ越す方", shared)
    movers = group(page, "引っ越す方")
    yui, minato = group(movers, "引っ越す方1"), group(movers, "引っ越す方2")
    expect(by_label(yui, "新しい世帯の世帯主との続柄")).to_have_value("head")
    expect(by_label(minato, "新しい世帯の世帯主との続柄")).to_have_value("child")
    choose(page, group(yui, "マイナンバーカードを持っていますか"), "はい")
    choose(page, group(minato, "マイナンバーカードを持っていますか"), "いいえ")
    next_by_keyboard(page)

    # 転入予約
    tennyu = "転入予約（来庁予定の連絡）"
    journey.at("連絡をする方", tennyu)
    next_by_keyboard(page)
    journey.at("前の住所と新しい住所", tennyu)
    choose(page, group(page, "前の住所地での転出届"), "マイナポータルなどで転出届をした")
    next_by_keyboard(page)
    journey.at("引っ越す日と来庁の日", tennyu)
    # The month and day alone, as the hint shows (decision 0088): the check page shows the year.
    type_into(page, by_label(page, "市民課の窓口に来る予定の日"), f"{VISIT.month}月{VISIT.day}日")
    choose(page, group(page, "来る予定の時間帯"), "午後（13時から17時15分まで）")
    next_by_keyboard(page)
    journey.at("一緒に引っ越す方", tennyu)
    choose(page, group(page, "いすみ市での世帯"), "新しく世帯をつくる")
    next_by_keyboard(page)
    journey.at("あわせて必要な手続", tennyu)
    next_by_keyboard(page)

    # 子ども医療費助成
    iryohi = "子ども医療費助成の申請"
    journey.at("申請する保護者と助成を受ける子ども", iryohi)
    choose(page, group(page, "子どもとの関係"), "母")
    next_by_keyboard(page)
    journey.at("子どもの健康保険と受給券の受け取り", iryohi)
    choose(page, group(page, "子どもが入っている健康保険"), "いすみ市の国民健康保険")
    choose(page, group(page, "受け取り方法"), "郵送で受け取る")
    next_by_keyboard(page)

    journey.assert_one_page_after_another()
    assert [step for pid, step in journey.member_steps if pid == "kodomo-iryohi"] == [
        "children",
        "insurance",
    ]

    # The check page: no signature needed for these two.
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    for title in ("転入予約（来庁予定の連絡）", "子ども医療費助成の申請"):
        expect(page.get_by_role("heading", level=2, name=title, exact=True)).to_have_count(1)
    expect(page.get_by_role("heading", level=2, name="児童手当の認定請求")).to_have_count(0)
    expect(page.get_by_role("button", name="署名してまとめて申請する")).to_have_count(0)
    expect(page.get_by_text(japanese.format_both(VISIT)).first).to_be_visible()
    audit(page)
    declaration = page.get_by_role(
        "checkbox", name="上の内容を確認し、2件の手続をまとめて申請します"
    )
    press(page, declaration, "Space")
    expect(declaration).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="まとめて申請する")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back to the box: still checked
    expect(declaration).to_be_focused()
    expect(declaration).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("まとめて申請しました")
    expect(page.locator(".reference")).to_have_text(re.compile(r"^ISB-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    expect(page.get_by_text(re.compile("^2件の手続を、"))).to_be_visible()
    expect(page.get_by_role("link", name="窓口に行く日時を予約する")).to_be_visible()
    audit(page)
    journey.assert_same_total_on_every_page()
