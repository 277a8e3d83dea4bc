"""The one catalogue of everything a patron or staff member reads, in Japanese and English.

Screens, ``kioskctl`` and printed notices render *keys*, never literal strings, so that every
message says what happened and what to do in both languages (STYLE.md 5). Parameters are filled
with :meth:`str.format`; a missing key is a bug caught by the tests, not a blank screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Lang(Enum):
    JA = "ja"
    EN = "en"


@dataclass(frozen=True)
class Message:
    ja: str
    en: str


CATALOGUE: dict[str, Message] = {
    # Patron flow
    "idle.title": Message("マイナンバーカードをかざしてください", "Tap your My Number Card"),
    "idle.hint": Message(
        "カードを読み取り機の上に置いてください。貸出用のラベルを印刷します。",
        "Place the card on the reader. We will print a label for the self-checkout.",
    ),
    "reading": Message(
        "カードを読み取っています… カードを動かさないでください",
        "Reading your card… please keep it still",
    ),
    "pin.prompt": Message(
        "利用者証明用の暗証番号（数字4桁）を入力してください",
        "Enter your 4-digit user-authentication PIN",
    ),
    "pin.tries": Message(
        "あと {tries_left} 回まちがえるとカードがロックされます",
        "{tries_left} tries left before the card locks",
    ),
    "pin.last": Message(
        "次にまちがえるとロックされ、市区町村の窓口での手続きが必要です",
        "One more wrong PIN locks the card; unlocking needs a visit to the city office",
    ),
    "pin.countdown": Message(
        "あと {seconds} 秒で最初の画面に戻ります", "Returning to the start screen in {seconds} s"
    ),
    "ui.contrast": Message("見やすい表示", "High contrast"),
    "staff.pin": Message("係員用の暗証番号を入力してください", "Staff: enter the staff PIN"),
    "staff.wrong": Message("係員用の暗証番号がちがいます", "Wrong staff PIN"),
    "staff.menu": Message("係員メニュー", "Staff menu"),
    "diag.title": Message("診断", "Diagnostics"),
    "diag.running": Message("確認しています…", "Checking…"),
    "lookup": Message("図書館カードの番号を確認しています…", "Checking your library card…"),
    "printing": Message("ラベルを印刷しています…", "Printing your label…"),
    "done.title": Message("ラベルをお取りください", "Please take your label"),
    "done.hint": Message(
        "自動貸出機でこのラベルのバーコードを読ませてください。本日限り有効です。",
        "Scan this label's barcode at the self-checkout. Valid today only.",
    ),
    "label.valid_today": Message("本日限り有効", "Valid today only"),
    # Errors: what happened + what to do
    "error.unexpected": Message(
        "予期しないエラーが起きました。係員にお知らせください。",
        "Something unexpected went wrong. Please tell a staff member.",
    ),
    "error.config": Message(
        "設定ファイルに問題があります。技術担当者に連絡してください。",
        "The configuration has a problem. Please call the technician.",
    ),
    "error.card.none": Message(
        "カードが見つかりません。もう一度かざしてください。",
        "No card found. Please tap your card again.",
    ),
    "error.card.reader": Message(
        "カード読み取り機が使えません。係員にお知らせください。図書館カードもご利用いただけます。",
        "The card reader is not available. Please tell a staff member, or use your library card.",
    ),
    "error.card.removed": Message(
        "読み取り中にカードが離れました。もう一度、動かさずにかざしてください。",
        "The card was moved away while reading. Please tap it again and keep it still.",
    ),
    "error.card.foreign": Message(
        "マイナンバーカードではないようです。マイナンバーカードをかざしてください。",
        "This does not look like a My Number Card. Please tap your My Number Card.",
    ),
    "error.card.phone": Message(
        "スマートフォンの証明書はここでは使えません。カードをかざしてください。",
        "Phone certificates cannot be used here. Please tap the plastic card.",
    ),
    "error.card.unreadable": Message(
        "カードを正しく読み取れませんでした。もう一度かざしてください。続く場合はカウンターへ。",
        "The card could not be read correctly. Please try again; if it persists, go to the counter.",
    ),
    "error.pin.wrong": Message(
        "暗証番号がちがいます。もう一度カードをかざすと入力し直せます。あと {tries_left} 回まちがえるとロックされます。",
        "Wrong PIN. Tap your card again to retry; {tries_left} more wrong tries will lock the card.",
    ),
    "error.pin.blocked": Message(
        "暗証番号がロックされています。市区町村の窓口で解除してください。今日は図書館カードをご利用ください。",
        "The PIN is locked. Please have it reset at your city office; today, use your library card.",
    ),
    "error.label": Message(
        "ラベルを作れませんでした。カウンターへお越しください。",
        "The label could not be made. Please go to the counter.",
    ),
    "error.label.number": Message(
        "登録されている図書館カード番号に誤りがあります。カウンターへお越しください。",
        "The linked library card number is not valid. Please go to the counter.",
    ),
    "error.printer": Message(
        "プリンターが使えません。印刷は保留されています。係員にお知らせください。",
        "The printer is not available. Your label is kept; please tell a staff member.",
    ),
    "error.printer.paper": Message(
        "用紙切れです。印刷は保留されています。係員にお知らせください。",
        "The printer is out of paper. Your label is kept; please tell a staff member.",
    ),
    "error.printer.cover": Message(
        "プリンターのカバーが開いています。印刷は保留されています。係員にお知らせください。",
        "The printer cover is open. Your label is kept; please tell a staff member.",
    ),
    "error.platform.down": Message(
        "サーバーに接続できません。しばらくしてからお試しいただくか、図書館カードをご利用ください。",
        "The service cannot be reached. Please try again later, or use your library card.",
    ),
    "error.platform.terminal": Message(
        "この端末は登録の確認が必要です。係員にお知らせください。",
        "This terminal needs its registration checked. Please tell a staff member.",
    ),
    "error.platform.unregistered": Message(
        "このカードはこの図書館に登録されていません。カウンターで登録できます。",
        "This card is not linked to this library. You can register it at the counter.",
    ),
    "error.platform.card": Message(
        "カードの証明書を確認できませんでした（期限切れ・失効など）。カウンターへお越しください。",
        "The card's certificate could not be accepted (expired or revoked). Please go to the counter.",
    ),
    # SIP2 gateway: what a self-checkout machine shows for a refused label
    "sip2.label.expired": Message(
        "このラベルは使えません。ラベルは印刷した日の利用時間内だけ有効です。キオスクで新しいラベルを印刷してください。",
        "This label is not valid. Labels work only on the day they were printed, within opening hours. Please print a new one at the kiosk.",
    ),
    "sip2.label.unreadable": Message(
        "ラベルを正しく読み取れませんでした。もう一度読ませるか、キオスクで新しいラベルを印刷してください。",
        "The label could not be read correctly. Please scan it again or print a new one at the kiosk.",
    ),
    "error.sip2": Message(
        "自動貸出機との連携に問題があります。係員にお知らせください。",
        "The link to the self-checkout machines has a problem. Please tell a staff member.",
    ),
    "error.sip2.store": Message(
        "本日のラベル情報を読み込めません。技術担当者に連絡してください。",
        "Today's label data cannot be read. Please call the technician.",
    ),
    "back_to_idle": Message(
        "まもなく最初の画面に戻ります", "Returning to the start screen shortly"
    ),
    # --- image (issue 7): first-boot provisioning and the clock gate ---
    "error.provision": Message(
        "SD カードの設定ファイル kiosk-provision.toml に誤りがあります。次の点を直して再起動してください。",
        "The SD card's settings file kiosk-provision.toml has problems. Fix these and restart.",
    ),
    "provision.done": Message(
        "設定を取り込み、SD カードから設定ファイルを消去しました。",
        "The settings were imported and the settings file was erased from the SD card.",
    ),
    "provision.missing": Message(
        "この端末はまだ設定されていません。技術担当者に連絡してください。",
        "This terminal is not set up yet. Please call the technician.",
    ),
    "error.clock.unsynced": Message(
        "時計がまだ合っていないため、ラベルを印刷できません。しばらくお待ちください。",
        "The clock is not set yet, so no label can be printed. Please wait a moment.",
    ),
}


def render(key: str, lang: Lang, **params: object) -> str:
    """The text for ``key`` in ``lang``; unknown keys fall back to the generic error."""
    message = CATALOGUE.get(key, CATALOGUE["error.unexpected"])
    text = message.ja if lang is Lang.JA else message.en
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def bilingual(key: str, **params: object) -> str:
    """Japanese line, then English line: what unattended screens and ``kioskctl`` show."""
    return f"{render(key, Lang.JA, **params)}\n{render(key, Lang.EN, **params)}"
