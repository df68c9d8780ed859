"""A birth filed in one go, on a phone: 大原 太郎 (no children in the records yet) answers the
birth screening, chooses on his checklist to file 児童手当の認定請求, 子ども医療費助成の申請 and
住民票の写し等の交付請求 together, logs in with his card, answers the shared questions once (his
name comes from the card; one baby), then only what each procedure still needs, checks
everything on one page (with the fee: 300円), signs once for all documents with one signature
password, and lands on the bundle's page. He pays the one fee with the test card at the mock
payment provider; back on the bundle's page the 住民票 is no longer waiting for its fee. He books
the 出生届 visit at the 市民課 from the bundle's page, which then shows the appointment, and opens
the printable visit plan. axe runs on every page."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal import japanese
from portal.clock import TOKYO
from tests.e2e.people import by_label, group
from tests.e2e.test_hoiku import sign_with_card
from tests.e2e.test_login import use_card

PERSONA = "adult"  # 大原 太郎
# Born two days ago (the server's clock is the real one), typed in 和暦 as many residents do.
BORN = japanese.format_wareki(dt.datetime.now(TOKYO).date() - dt.timedelta(days=2))
BABY = {"name": "大原 陽向", "kana": "オオハラ ヒナタ", "birth_date": BORN}
MEMBERS = ["児童手当の認定請求", "子ども医療費助成の申請", "住民票の写し等の交付請求"]


def heading(page):
    return page.get_by_role("heading", level=1)


def next_step(page) -> None:
    page.get_by_role("button", name="次へ進む").click()
    expect(page.locator("[data-error-summary]")).to_have_count(0)


def choose(page, legend: str, option: str) -> None:
    group(page, legend).get_by_role("radio", name=option, exact=True).check()


def screening(page, audit) -> None:
    page.goto("/")
    audit(page)
    page.get_by_role("link", name=re.compile("くらしのできごとから必要な手続を調べる")).click()
    audit(page)
    page.get_by_role("link", name="妊娠・出産・子育て").click()
    expect(heading(page)).to_have_text("いまの状況を教えてください")
    audit(page)
    choose(page, "いまの状況", "赤ちゃんが生まれた")
    by_label(page, "妊娠の届出をする日、または生まれた日").fill(BABY["birth_date"])
    choose(page, "保育施設（保育所・認定こども園など）の利用を考えていますか", "いいえ")
    choose(page, "赤ちゃんが生まれた方：勤め先の扶養の手続などで、住民票の写しが必要ですか", "はい")
    page.get_by_role("button", name="必要な手続を見る").click()
    expect(heading(page)).to_have_text("あなたのやることリスト")


def test_a_birth_filed_together_paid_and_booked_on_a_phone(make_page, audit):
    page = make_page("phone")
    screening(page, audit)

    # The checklist offers the online procedures, all chosen; filing them starts with a login.
    section = page.get_by_role("region", name="オンラインの手続を、まとめて申請する")
    expect(section).to_be_visible()
    boxes = group(section, "まとめて申請する手続").get_by_role("checkbox")
    expect(boxes).to_have_count(len(MEMBERS))
    for title in MEMBERS:
        expect(section.get_by_role("checkbox", name=title, exact=True)).to_be_checked()
    audit(page)
    section.get_by_role("button", name="選んだ手続をまとめて申請する").click()
    expect(heading(page)).to_have_text("マイナンバーカードでログイン")
    audit(page)
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    expect(heading(page)).to_have_text("マイナンバーカードで本人確認")
    audit(page)
    use_card(page, PERSONA)
    # Back on the checklist, still with every procedure chosen: now the bundle starts.
    expect(heading(page)).to_have_text("あなたのやることリスト")
    section = page.get_by_role("region", name="オンラインの手続を、まとめて申請する")
    for title in MEMBERS:
        expect(section.get_by_role("checkbox", name=title, exact=True)).to_be_checked()
    audit(page)
    section.get_by_role("button", name="選んだ手続をまとめて申請する").click()

    # Shared 1: the applicant from the card (right as it is: left alone) and the phone.
    expect(heading(page)).to_have_text("申請する方と連絡先")
    expect(page).to_have_url(re.compile(r"/bundles/[0-9a-f]+/shared/contact$"))
    bundle_url = page.url.split("/shared/")[0]
    applicant = group(page, "申請する方（あなた）")
    expect(by_label(applicant, "氏名")).to_have_value("大原 太郎")
    expect(by_label(applicant, "フリガナ")).to_have_value("オオハラ タロウ")
    audit(page)
    by_label(page, "日中に連絡のつく電話番号").fill("090-1234-5678")
    # The e-mail address is asked (optional) for the deadline reminders, and left empty here.
    expect(page.get_by_label(re.compile("^メールアドレス"))).to_have_count(1)
    next_step(page)

    # Shared 2: the baby, once for every procedure.
    expect(heading(page)).to_have_text("生まれた赤ちゃん")
    audit(page)
    babies = group(page, "生まれた赤ちゃん")
    if not group(babies, "赤ちゃん1").count():
        babies.get_by_role("button", name="赤ちゃんを追加する").click()
        babies = group(page, "生まれた赤ちゃん")
    baby = group(babies, "赤ちゃん1")
    by_label(baby, "氏名").fill(BABY["name"])
    by_label(baby, "フリガナ").fill(BABY["kana"])
    by_label(baby, "生年月日").fill(BABY["birth_date"])
    next_step(page)

    # 児童手当: only what the shared questions did not answer.
    expect(heading(page)).to_have_text("請求する方と受取口座")
    expect(page.get_by_text("児童手当の認定請求").first).to_be_visible()
    expect(page.get_by_label(re.compile("^日中に連絡のつく電話番号"))).to_have_count(0)
    audit(page)
    by_label(page, "請求する方の個人番号（マイナンバー）").fill("100000000013")
    choose(page, "請求する方が加入している年金", "厚生年金（会社員など）")
    choose(page, "請求する方は公務員（国・地方公共団体の常勤の職員）ですか", "いいえ")
    choose(page, "受取口座", "公金受取口座（マイナポータルに登録した口座）を使う")
    next_step(page)
    expect(heading(page)).to_have_text("配偶者とお子さん")
    audit(page)
    choose(page, "配偶者（事実上の婚姻関係にある方を含む）がいますか", "いいえ")
    # The baby came from the shared answers: only whether a child lives elsewhere is asked.
    expect(page.get_by_role("group", name=re.compile("^育てているお子さん"))).to_have_count(0)
    choose(page, "この中に、あなたと別に暮らしているお子さんがいますか", "いいえ")
    choose(
        page,
        "高校生年代を過ぎて、22歳になった後の最初の3月31日までのお子さんで、"
        "あなたが生活費を負担している方がいますか",
        "いいえ",
    )
    next_step(page)

    # 子ども医療費: the guardian and his address from the card, the reason, the baby and the
    # birth date from the shared answers: on its one page, only the relationship is asked.
    expect(heading(page)).to_have_text("申請する保護者と助成を受ける子ども")
    expect(page.get_by_text("大原 太郎（オオハラ タロウ）")).to_be_visible()
    expect(by_label(group(page, "住所"), "町名")).to_have_value("大原")
    audit(page)
    choose(page, "子どもとの関係", "父")
    next_step(page)
    # The insurance and how to receive the card, on one page; the insurer's number names it,
    # and 協会けんぽ's Chiba branch is a choice of its own (its number is known).
    expect(heading(page)).to_have_text("子どもの健康保険と受給券の受け取り")
    audit(page)
    choose(page, "子どもが入っている健康保険", "協会けんぽ（全国健康保険協会）の千葉支部")
    expect(page.get_by_label(re.compile("^保険者の名称"))).to_have_count(0)
    expect(page.get_by_label(re.compile("^保険者番号"))).to_be_hidden()
    by_label(page, "記号・番号").fill("記号 1234 番号 56 枝番 02")
    choose(page, "被保険者（子どもが扶養に入っている、保険の本人）", "申請する保護者（あなた）")
    choose(page, "受け取り方法", "郵送で受け取る")
    next_step(page)

    # 住民票: the requester's name, kana, phone and relationship came from the shared answers.
    expect(heading(page)).to_have_text("必要な住民票")
    audit(page)
    choose(page, "住民票に載せる方", "世帯全員")
    group(page, "記載する項目").get_by_role("checkbox", name="世帯主の氏名と続柄").check()
    next_step(page)
    expect(heading(page)).to_have_text("通数と使いみち")
    audit(page)
    by_label(page, "通数").fill("1")
    by_label(page, "使いみち").select_option(label="就職・勤務先への提出")
    next_step(page)
    expect(heading(page)).to_have_text("受け取り方法")
    audit(page)
    choose(page, "受け取り方法", "郵送で受け取る")
    next_step(page)

    # One check page: the shared answers once, each procedure's own answers, the fee.
    expect(heading(page)).to_have_text("申請内容の確認")
    expect(page).to_have_url(f"{bundle_url}/check")
    expect(page.get_by_role("heading", level=2, name="すべての手続に共通の内容")).to_be_visible()
    expect(page.get_by_text(re.compile(r"赤ちゃん1：大原 陽向、オオハラ ヒナタ"))).to_have_count(1)
    for title in MEMBERS:
        expect(page.get_by_role("heading", level=2, name=title, exact=True)).to_be_visible()
    fees = page.get_by_role("region", name="手数料")
    expect(fees).to_contain_text("住民票の写し等の交付請求：300円（1通300円）")
    expect(fees.locator(".fee")).to_have_text(re.compile(r"^合計\s*300円$"))
    audit(page)
    # Without the one declaration nothing is signed.
    page.get_by_role("button", name="署名してまとめて申請する").click()
    expect(
        page.get_by_role("link", name="申請内容の確認にチェックを入れてください")
    ).to_be_visible()
    audit(page)
    page.get_by_role(
        "checkbox", name=f"上の内容を確認し、{len(MEMBERS)}件の手続をまとめて申請します"
    ).check()
    page.get_by_role("button", name="署名してまとめて申請する").click()

    # One signature password for every document that needs one (児童手当 here).
    expect(page.get_by_text("児童手当の認定請求（申請書）")).to_be_visible()
    audit(page)
    sign_with_card(page, PERSONA)
    expect(heading(page)).to_have_text("まとめて申請しました")
    expect(page).to_have_url(f"{bundle_url}?done=1")
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"ISB-[0-9A-Z]{4}-[0-9A-Z]{4}", reference), reference
    audit(page)
    expect(page.get_by_text("完了 0件・市で手続中 2件・これから 4件")).to_be_visible()
    expect(juminhyo_part(page)).to_contain_text("手数料が未払いです")

    # The one fee, paid with the test card at the provider's hosted page.
    expect(page.get_by_role("heading", level=2, name="手数料のお支払い")).to_be_visible()
    page.get_by_role("button", name="手数料をまとめて支払う（300円）").click()
    expect(heading(page)).to_have_text("お支払い方法を選んでください")
    audit(page)
    choose(page, "お支払い方法", "クレジットカード")
    page.get_by_role("button", name="次へ進む").click()
    expect(heading(page)).to_have_text("クレジットカードで支払う")
    audit(page)
    by_label(page, "カード番号").fill("4242 4242 4242 4242")
    by_label(page, "有効期限（月/年）").fill("12/30")
    by_label(page, "セキュリティコード").fill("123")
    by_label(page, "カード名義（ローマ字）").fill("TARO OHARA")
    page.get_by_role("button", name="300円を支払う").click()
    expect(heading(page)).to_have_text("お支払いが完了しました")  # back at the portal by itself
    audit(page)

    # Back on the bundle's page the fee is paid (the return page asked the provider; a webhook
    # may also be on its way: look again for a moment if it is not shown yet).
    to_the_bundle(page, audit, reference)
    for _ in range(20):
        if "手数料が未払い" not in juminhyo_part(page).inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(juminhyo_part(page)).not_to_contain_text("手数料が未払い")
    expect(juminhyo_part(page)).to_contain_text("市で手続中")
    expect(page.get_by_role("button", name=re.compile("手数料をまとめて支払う"))).to_have_count(0)
    expect(page.get_by_text("完了 0件・市で手続中 3件・これから 3件")).to_be_visible()
    audit(page)

    # The 出生届 visit, booked from the bundle's page.
    expect(page.get_by_role("heading", level=2, name="窓口に行く日")).to_be_visible()
    page.get_by_role("link", name="窓口に行く日時を予約する").click()
    expect(heading(page)).to_have_text("市民課 戸籍の窓口")
    expect(
        page.get_by_text(f"まとめて申請した手続（受付番号 {reference}）のための予約です。")
    ).to_be_visible()
    expect(
        group(page, "用件（いくつでも選べます）").get_by_role(
            "checkbox", name=re.compile("^出生届")
        )
    ).to_be_checked()
    audit(page)
    free_day = page.get_by_role("link", name=re.compile(r"空きあり$"))
    if not free_day.count():  # late in the month: the next one
        page.get_by_role("link", name=re.compile(r"^次の月")).click()
        audit(page)
    free_day.first.click()
    expect(heading(page)).to_have_text(re.compile(r"の時間を選ぶ$"))
    audit(page)
    page.get_by_role("radio", name=re.compile("から$")).first.check()
    expect(by_label(page, "お名前")).to_have_value("大原 太郎")  # from the login
    page.get_by_role("button", name="この内容で予約する").click()
    expect(heading(page)).to_have_text("予約しました")
    when = page.get_by_text(re.compile(r"^\d{4}年\d+月\d+日（.）\s*\d+時\d+分から.*まで$"))
    when = when.first.inner_text()
    audit(page)

    # From the list of applications back to the bundle: it shows the appointment now.
    to_the_bundle(page, audit, reference)
    expect(page.get_by_text(f"予約：{when}（市民課 戸籍の窓口）")).to_be_visible()
    expect(page.get_by_role("link", name="窓口に行く日時を予約する")).to_have_count(0)
    expect(page.get_by_role("link", name="予約の確認・変更・取消")).to_be_visible()
    audit(page)

    # The printable plan: the booking with its ticket, the counter, what to bring, what was filed.
    page.get_by_role("link", name="来庁の計画を表示・印刷する").click()
    expect(heading(page)).to_have_text("来庁の計画")
    expect(page).to_have_url(f"{bundle_url}/plan")
    expect(page.get_by_text(when)).to_be_visible()
    expect(page.get_by_role("img", name="予約票のQRコード（窓口で読み取ります）")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^市民課 戸籍の窓口（"))).to_be_visible()
    expect(page.get_by_text("手続：出生届")).to_be_visible()
    expect(page.get_by_text("母子健康手帳（出生届出済証明を記入します）")).to_be_visible()
    for title in MEMBERS:
        expect(page.get_by_text(re.compile(rf"^{title}（受付番号 ISM-"))).to_be_visible()
    audit(page)


def to_the_bundle(page, audit, reference: str) -> None:
    """From the header's 申請一覧 to the bundle's page, as a resident finds it again."""
    page.get_by_role("link", name="申請一覧").click()
    expect(page.get_by_role("heading", level=2, name="まとめて申請した手続")).to_be_visible()
    audit(page)
    page.get_by_role("listitem").filter(has_text=f"受付番号 {reference}").get_by_role(
        "link", name=re.compile(r"^手続の状況・窓口の予約を見る\s*（妊娠・出産・子育て）$")
    ).click()
    expect(heading(page)).to_have_text("妊娠・出産・子育ての手続の状況")


def juminhyo_part(page):
    return page.locator(".checklist__item").filter(
        has=page.get_by_role("heading", name="住民票の写し等の交付請求")
    )
