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
    "error.token.unavailable": Message(
        "本日限りのラベルを今は発行できません（開館時間外など）。カウンターへお越しいただくか、図書館カードをご利用ください。",
        "A same-day label cannot be issued right now (for example outside opening hours). Please go to the counter or use your library card.",
    ),
    "error.sip2.store": Message(
        "本日のラベル情報を読み込めません。技術担当者に連絡してください。",
        "Today's label data cannot be read. Please call the technician.",
    ),
    "back_to_idle": Message(
        "まもなく最初の画面に戻ります", "Returning to the start screen shortly"
    ),
    # --- UI (issue 6): patron progress, library choice, staff lookup, setup, re-enrolment ---
    "ui.large_text": Message("大きな文字", "Large text"),
    "ui.cancel": Message("やめる", "Cancel"),
    "progress.step": Message("手順 {step} / {total}", "Step {step} of {total}"),
    "progress.reading": Message("カードの読み取り", "Reading the card"),
    "progress.lookup": Message("図書館カードの確認", "Checking the library card"),
    "progress.printing": Message("ラベルの印刷", "Printing the label"),
    "choice.title": Message(
        "どの図書館のラベルを印刷しますか", "Which library shall we print a label for?"
    ),
    "choice.hint": Message(
        "図書館のボタンを押すか、その番号のキーを押してください",
        "Press the library's button, or its number key",
    ),
    "done.library": Message("{library} のラベルです", "This label is for {library}"),
    "staff.lookup": Message("カード番号の照会", "Look up a card number"),
    "staff.setup": Message("初期設定", "Setup"),
    "staff.diagnostics": Message("診断", "Diagnostics"),
    "lookup.wait": Message(
        "利用者の方にマイナンバーカードをかざしていただいてください",
        "Ask the patron to tap their My Number Card",
    ),
    "lookup.title": Message("照会の結果", "Lookup result"),
    "lookup.method.A": Message(
        "番号を表示して図書館システムに入力", "Show the number and type it in"
    ),
    "lookup.method.B": Message(
        "画面のバーコードを図書館システムの読み取り機で読んでください",
        "Scan the barcode on this screen with the library system's reader",
    ),
    "lookup.method.C": Message(
        "図書館システムのカード番号欄へ自動入力します",
        "Typed into the library system's card-number field automatically",
    ),
    "lookup.method.D": Message("ラベルを印刷します", "A label is printed"),
    "lookup.masked": Message(
        "番号は隠してあります。「表示」で表示します", "The number is hidden: press Reveal"
    ),
    "lookup.sent": Message("図書館システムへ入力しました", "Typed into the library system"),
    "lookup.printed": Message("ラベルを印刷しました", "The label was printed"),
    "lookup.card_invalid": Message(
        "この図書館カードは有効ではありません（期限切れなど）。カウンターで確認してください。",
        "This library card is not valid (expired or withdrawn). Please check it at the counter.",
    ),
    "lookup.address_changed": Message(
        "住所が変わっています。図書館の登録を確認してください。",
        "The address has changed. Please check the library's record.",
    ),
    "error.handoff": Message(
        "図書館システムへ自動入力できませんでした。番号を表示して入力してください。",
        "The number could not be typed into the library system. Reveal it and type it in.",
    ),
    "ui.done": Message("終了", "Done"),
    "diag.card_test": Message(
        "カードを読み取り機に置いてください（暗証番号は使いません）",
        "Put a card on the reader (no PIN is used)",
    ),
    "lookup.reveal": Message("番号を表示", "Reveal"),
    "lookup.sending": Message("入力しています…", "Typing…"),
    "lookup.send_again": Message("もう一度入力", "Type again"),
    "lookup.print": Message("ラベルを印刷", "Print a label"),
    "demo.instructions": Message(
        "デモ図書館：1階の自動貸出機で、本と一緒にこのラベルのバーコードを読ませてください。",
        "Demo library: at the self-checkout on the ground floor, scan this label with your books.",
    ),
    "setup.title": Message("初期設定（技術担当者）", "First-time setup (technician)"),
    "setup.credentials": Message(
        "端末IDとパスワード（市区町村から届いた一覧のもの）",
        "Terminal ID and password (from the municipality's list)",
    ),
    "setup.contact": Message("設置場所と連絡先", "Installation place and contact details"),
    "setup.fix": Message(
        "{count} か所に問題があります。赤い表示を直してください",
        "{count} problem(s): please fix the fields marked in red",
    ),
    "setup.sending": Message("登録しています…", "Registering…"),
    "setup.done": Message(
        "登録しました。連絡先は市区町村が確認します。",
        "Registered. The municipality will confirm the contact details.",
    ),
    "setup.unavailable": Message(
        "この端末からは登録を送れません。技術担当者に連絡してください。",
        "Registration cannot be sent from this kiosk. Please call the technician.",
    ),
    "field.terminal_id": Message("端末ID（8桁）", "Terminal ID (8 digits)"),
    "field.password": Message("パスワード", "Password"),
    "field.place": Message("設置場所", "Installation place"),
    "field.name": Message("端末名", "Terminal name"),
    "field.issuer_id": Message("ID発行者", "ID issuer"),
    "field.person": Message("担当者", "Person in charge"),
    "field.postal_code": Message("郵便番号（7桁）", "Postal code (7 digits)"),
    "field.address": Message("住所", "Address"),
    "field.phone": Message("電話番号", "Phone"),
    "field.email": Message("メールアドレス", "E-mail"),
    "field.email_again": Message(
        "メールアドレス（確認のため、もう一度入力）", "E-mail again (type it, do not paste)"
    ),
    "form.required": Message("入力してください", "Required"),
    "form.terminal_id": Message("端末IDは数字8桁です", "The terminal ID is 8 digits"),
    "form.postal_code": Message(
        "郵便番号は数字7桁です（例 213-0001）", "A postal code is 7 digits (e.g. 213-0001)"
    ),
    "form.phone": Message(
        "電話番号は0から始まる10桁か11桁です", "A phone number is 10 or 11 digits starting with 0"
    ),
    "form.email": Message("メールアドレスの形ではありません", "Not an e-mail address"),
    "form.email_again": Message(
        "1回目のメールアドレスと一致しません", "Does not match the first e-mail address"
    ),
    "reenrol.title": Message(
        "この端末は登録し直す必要があります", "This kiosk must be registered again"
    ),
    "reenrol.what": Message(
        "プラットフォームがこの端末を受け付けません（本体の交換やパスワードの変更のため）。",
        "The platform no longer accepts this kiosk (its board was replaced or its password changed).",
    ),
    "reenrol.patron": Message(
        "利用者の方へ：今日はカウンターで図書館カードをご利用ください。",
        "Patrons: today, please use your library card at the counter.",
    ),
    "reenrol.technician": Message(
        "技術担当者へ：市区町村から届いた端末IDとパスワードで初期設定をやり直してください（F2 → 初期設定）。",
        "Technician: run the setup again with the terminal ID and password from the municipality (F2 → Setup).",
    ),
    # sync: terminal enrolment and the connection to the platform (the status line)
    "error.terminal.reenrol": Message(
        "この端末の登録情報はこの機器では使えません（別の機器からの複製か、部品の交換）。技術担当者に端末の再登録を依頼してください。",
        "This terminal's stored registration does not work on this device (copied from another kiosk, or hardware replaced). Please ask the technician to enrol the terminal again.",
    ),
    "connectivity.online": Message("サーバーに接続しています", "Connected to the service"),
    "connectivity.connecting": Message("サーバーに接続中…", "Connecting to the service…"),
    "connectivity.offline": Message(
        "サーバーに接続できません。記録は保存され、接続が戻ったときに送信されます。",
        "The service cannot be reached. Records are kept and sent when the connection returns.",
    ),
    "connectivity.rejected": Message(
        "サーバーがこの端末を受け付けません。係員にお知らせください。",
        "The service does not accept this terminal. Please tell a staff member.",
    ),
    # Labels and the printer (issue 4)
    "error.printer.uncertain": Message(
        "印刷が途中で止まった可能性があります。ラベルが出ていない場合は係員にお知らせください（二重に印刷しないよう、自動では印刷し直しません）。",
        "Printing may have stopped part-way. If no label came out, please tell a staff member (it is not reprinted automatically, so it cannot print twice).",
    ),
    # Bookmobile (offline) lending, issue 9: patron screens, label, staff resolve/export
    "offline.banner": Message(
        "オフライン運用中：仮ラベルを印刷します（失効リスト {age}）",
        "Offline: provisional labels are printed (revocation list {age})",
    ),
    "offline.done.hint": Message(
        "この仮ラベルで本日貸出できます。カードの番号はあとで図書館が確認します。",
        "You can borrow today with this provisional label. The library confirms your card later.",
    ),
    "offline.pending": Message(
        "未確認 {pending} 件・確認済み {resolved} 件・照合不可 {refused} 件",
        "{pending} pending · {resolved} resolved · {refused} could not be resolved",
    ),
    "offline.trust": Message(
        "CA証明書 {cas} 件、失効リストの発行から {age}（上限 {limit}）",
        "{cas} CA certificate(s); revocation list issued {age} ago (limit {limit})",
    ),
    "offline.resolve.done": Message(
        "{resolved} 件を確認しました（残り {pending} 件）",
        "{resolved} resolved ({pending} still pending)",
    ),
    "offline.export.done": Message(
        "書き出しました。図書館システムへの取り込みを確認したら「確定」してください。",
        "Exported. Once the library system has taken the file, confirm to delete the data.",
    ),
    "offline.export.folder": Message(
        "書き出し先のフォルダ（USBメモリなど）を入力してください",
        "Type the folder to export to (e.g. the USB stick)",
    ),
    "offline.confirmed": Message("{deleted} 件の記録を削除しました", "{deleted} record(s) deleted"),
    "error.offline": Message(
        "オフラインではこのカードを確認できません。図書館カードをご利用いただくか、係員にお知らせください。",
        "This card cannot be checked offline. Please use your library card or tell a staff member.",
    ),
    "error.offline.trust": Message(
        "オフライン用の確認データがありません。出発前に係員が準備する必要があります。",
        "The offline check data is missing. Staff must prepare the kiosk before departure.",
    ),
    "error.offline.stale": Message(
        "失効リストが古いため、オフラインでは受け付けできません。図書館カードをご利用ください。",
        "The revocation list is too old to accept cards offline. Please use your library card.",
    ),
    "error.offline.revoked": Message(
        "このカードの証明書は失効しています。市区町村の窓口でご確認ください。",
        "This card's certificate has been revoked. Please check with your city office.",
    ),
    "error.offline.proof": Message(
        "カードの証明書または署名を確認できませんでした。カウンターへお越しください。",
        "The card's certificate or signature could not be verified. Please go to the counter.",
    ),
    "error.offline.refused": Message(
        "サーバーが仮ラベルの記録を受け付けませんでした（{code}）。係員が確認してください。",
        "The platform refused a provisional-label record ({code}). Staff should check it.",
    ),
    "error.offline.koc": Message(
        "貸出ファイルに読めない行があります。何も書き出していません。行ごとの内容を確認してください。",
        "The circulation file has lines that cannot be read. Nothing was written; see each line.",
    ),
    # -- server / sync area (issue 5): staff service-ID registration, terminal registration --
    "error.service_id.refused": Message(
        "登録できませんでした。もう一度お試しください。",
        "The registration was refused. Please try again.",
    ),
    "error.service_id.exists": Message(
        "このカードはこの図書館カード番号ですでに登録されています。",
        "This card is already registered with this library card number.",
    ),
    "error.service_id.conflict": Message(
        "このカードは別の図書館カード番号で登録済みです。先に登録を削除してください。",
        "This card is registered with another library card number. Delete that link first.",
    ),
    "error.service_id.taken": Message(
        "この図書館カード番号は別のマイナンバーカードに登録されています。番号を確認してください。",
        "This library card number is linked to another card. Please check the number.",
    ),
    "error.service_id.unknown": Message(
        "このカードはこの図書館に登録されていません。削除するものはありません。",
        "This card is not registered at this library; there is nothing to delete.",
    ),
    "error.service_id.no_mykey": Message(
        "このカードにはマイキーIDがありません。先にマイキーIDを作成してください。",
        "This card has no MyKey ID yet. Please create one first.",
    ),
    "error.service_id.number": Message(
        "図書館カード番号が正しくありません（桁数・チェックディジット）。確認して入力し直してください。",
        "The library card number is not valid (length or check digit). Please check and re-enter it.",
    ),
    "error.service_id.issuer": Message(
        "この端末はその図書館の登録を扱えません。端末の設定を確認してください。",
        "This terminal does not serve that library. Please check the terminal's settings.",
    ),
    "error.registration.invalid": Message(
        "登録内容に誤りがあります。印の付いた項目を確認してください。",
        "Some registration details are wrong. Please check the marked fields.",
    ),
    "error.platform.throttled": Message(
        "ログインの失敗が続いたため、しばらく待つ必要があります。{retry_after}秒後にお試しください。",
        "Too many failed sign-ins. Please try again in {retry_after} seconds.",
    ),
    # Card reader (kioskctl card-info): what a technician reads at the reader
    "cardinfo.none": Message(
        "読み取り機にカードがありません。カードを置いてからもう一度実行してください。",
        "No card on the reader. Place a card on it and run the command again.",
    ),
    "cardinfo.foreign": Message(
        "このカードは JPKI（公的個人認証）のカードではありません（JPKI アプリがないか、未知のトークン）。",
        "This is not a JPKI card (no JPKI application, or an unknown token).",
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
    # --- labels (issue 4): sealed label jobs, stored issuer records, held labels ---
    "error.label.job_unreadable": Message(
        "保存されている印刷待ちのラベルをこの端末で読み取れません（別の端末からの複製か、改変）。印刷はしません。係員が取り消してください。",
        "A kept label job cannot be read on this kiosk (copied from another kiosk, or altered). It will not be printed. Staff: please cancel it.",
    ),
    "error.issuer.record": Message(
        "保存されている図書館の設定が壊れています。技術担当者に連絡してください。",
        "A library's stored settings are damaged. Please call the technician.",
    ),
    "label.held.printed": Message(
        "お待たせしました。保留していたラベルを印刷しました。お取りください。",
        "Your held label has now printed. Please take it.",
    ),
    # sync (issue 5): the platform's TLS certificate and a kiosk that is not set up yet
    # (no ASCII in a Japanese text's first 20 characters: the screen tests search for them)
    "error.config.platform_ca": Message(
        "接続先サーバーの認証局の証明書ファイル（設定項目 platform_ca）を読み込めないか、PEM 形式の証明書ではありません。技術担当者に連絡してください。",
        "The platform_ca file (the platform's CA certificate) cannot be read or is not a PEM certificate. Please call the technician.",
    ),
    "error.platform.tls": Message(
        "サーバーの証明書を確認できないため接続しません（設定された認証局 CA のものではありません）。技術担当者に連絡してください。",
        "The service's certificate does not verify against the configured CA, so the kiosk does not connect. Please call the technician.",
    ),
    "error.terminal.setup": Message(
        "この端末はまだ登録されていません。技術担当者が初期設定を行ってください（F2 → 初期設定）。",
        "This terminal is not registered yet. The technician must run the setup (F2 → Setup).",
    ),
    # --- UI (issue 6, second part): staff registration, label jobs, status line, first boot ---
    "error.scanner": Message(
        "バーコードリーダーが読み取れません。番号を手で入力してください（接続を確認してください）。",
        "The barcode reader cannot be read. Please type the number (and check its cable).",
    ),
    "staff.register": Message("図書館カードの登録", "Register a card"),
    "staff.unregister": Message("登録の削除", "Delete a registration"),
    "staff.jobs": Message("印刷待ちのラベル", "Waiting labels"),
    "staff.reprint": Message("ラベルの再印刷", "Reprint last label"),
    "register.title": Message(
        "図書館カード番号の登録（係員）", "Register a library card number (staff)"
    ),
    "unregister.title": Message("登録の削除（係員）", "Delete a registration (staff)"),
    "register.issuer": Message("図書館", "Library"),
    "register.number": Message(
        "図書館カード番号（入力するか、カードのバーコードを読み取ってください）",
        "Library card number (type it, or scan the card's barcode)",
    ),
    "register.loading": Message("図書館の一覧を取得しています…", "Fetching the libraries…"),
    "register.no_issuers": Message(
        "この端末が扱う図書館がありません。端末の設定を確認してください。",
        "This terminal serves no library. Please check the terminal's settings.",
    ),
    "register.pick": Message("図書館を選んでください", "Please choose the library"),
    "register.scanned": Message("バーコードを読み取りました", "Barcode read"),
    "register.number.empty": Message("番号が入力されていません", "No number was entered"),
    "register.number.chars": Message(
        "使えない文字が含まれています", "The number has characters this library does not use"
    ),
    "register.number.digits": Message("数字だけで入力してください", "Use digits only"),
    "register.number.length": Message(
        "桁数がちがいます（{length}桁。この図書館は{lengths}桁）",
        "Wrong length ({length} characters; this library uses {lengths})",
    ),
    "register.number.check": Message(
        "チェックディジットが合いません。打ち間違いがないか確認してください",
        "The check digit does not match. Please check for a typing error",
    ),
    "register.number.rules": Message(
        "この図書館の番号の規則が正しく設定されていません。管理者に連絡してください",
        "This library's number rules are misconfigured. Please call the administrator",
    ),
    "register.tap": Message(
        "利用者の方にマイナンバーカードを読み取り機にかざしていただいてください",
        "Ask the patron to tap their My Number Card on the reader",
    ),
    "register.confirm": Message(
        "次の番号を登録します。番号が正しいか確認してください",
        "This number will be registered. Please check that it is right",
    ),
    "unregister.confirm": Message(
        "この図書館の登録を削除します。よろしいですか",
        "The registration at this library will be deleted. Go ahead?",
    ),
    "register.notice": Message(
        "住所が変わったら図書館へ知らせる", "Notify the library of address changes"
    ),
    "register.notice.yes": Message("住所変更のお知らせ：あり", "Address-change notice: yes"),
    "register.notice.no": Message("住所変更のお知らせ：なし", "Address-change notice: no"),
    "register.next": Message("次へ", "Next"),
    "register.back": Message("戻って直す", "Back, to correct it"),
    "register.send": Message("登録する", "Register"),
    "register.delete": Message("削除する", "Delete"),
    "register.sending": Message("登録しています…", "Registering…"),
    "register.checking": Message("カードを確認しています…", "Checking the card…"),
    "progress.card_check": Message("カードの確認（暗証番号）", "Checking the card (PIN)"),
    "progress.register": Message("サーバーへの登録", "Registering with the service"),
    "register.done": Message("登録しました", "Registered"),
    "unregister.done": Message("登録を削除しました", "The registration was deleted"),
    "jobs.title": Message("印刷待ちのラベル（係員）", "Labels waiting to print (staff)"),
    "jobs.none": Message("印刷待ちのラベルはありません", "No label is waiting"),
    "jobs.held": Message(
        "保留（プリンター復帰後に自動印刷）", "held (prints when the printer is back)"
    ),
    "jobs.uncertain": Message(
        "不明（印刷途中で停止。出ていなければ再印刷）",
        "uncertain (stopped part-way; reprint if no label came out)",
    ),
    "jobs.confirm_reprint": Message(
        "このラベルはすでに出ているかもしれません。プリンターを見て、出ていない場合だけ再印刷してください（1回だけ）。",
        "This label may already have printed. Look at the printer and reprint only if none came out (once).",
    ),
    "jobs.reprinted": Message("再印刷しました", "Reprinted"),
    "jobs.state.held": Message("保留", "held"),
    "jobs.held_resumes": Message(
        "保留中のラベルは「今すぐ印刷」で印刷します", "A held label prints with “Print now”"
    ),
    "jobs.state.uncertain": Message("不明", "uncertain"),
    "jobs.reprint": Message("再印刷", "Reprint"),
    "jobs.cancel": Message("取り消す", "Cancel job"),
    "jobs.resume": Message("今すぐ印刷", "Print now"),
    "jobs.resumed": Message("保留中のラベルを印刷しました", "The held labels were printed"),
    "jobs.none_printed": Message("印刷したラベルはありません", "No label was printed"),
    "jobs.cancelled": Message("取り消しました", "Cancelled"),
    "jobs.gone": Message(
        "このラベルはもう印刷待ちではありません", "This label is no longer waiting"
    ),
    "jobs.no_last": Message(
        "この起動以降に印刷したラベルはありません", "No label has been printed since start-up"
    ),
    "jobs.last_printed": Message("最後のラベルを再印刷しました", "The last label was reprinted"),
    "held.printed": Message(
        "お待たせしました。ラベルを印刷しました。お取りください",
        "Thank you for waiting: your label has printed. Please take it",
    ),
    "connectivity.reconnecting": Message(
        "オフライン：サーバーに再接続しています…", "Offline: reconnecting to the service…"
    ),
    "connectivity.pending": Message(
        "未送信の記録 {pending} 件", "{pending} record(s) not yet sent"
    ),
    "setup.restart": Message(
        "登録しました。端末を再起動して使い始めます…",
        "Registered. The kiosk restarts to begin service…",
    ),
    "field.issuer_id.pick": Message("ID発行者（図書館）を選んでください", "Choose the ID-issuer"),
    "field.issuer_id.digits": Message(
        "ID発行者コードは6桁の数字です（空欄はサーバーの既定）",
        "The ID-issuer code is 6 digits (empty: the platform's default)",
    ),
    # first boot without a provisioning file (issue 7): the wizard also takes the platform's
    # address and saves what it learnt for the next start
    "setup.platform": Message(
        "プラットフォームのアドレス（市区町村から届いたもの）",
        "The platform's address (from the municipality)",
    ),
    "field.platform_url": Message("アドレス（https://…）", "Address (https://…)"),
    "form.platform_url": Message(
        "アドレスの形ではありません（例 https://mykey.example.lg.jp/）",
        "Not an address (e.g. https://mykey.example.lg.jp/)",
    ),
    "form.platform_url.https": Message(
        "https:// で始めてください（http:// は試験用の 127.0.0.1 のみ）",
        "Must start with https:// (http:// only for a loopback test platform)",
    ),
    "form.platform_url.placeholder": Message(
        "見本のアドレスのままです。市区町村から届いたアドレスにしてください",
        "Still the sample address: type the one the municipality gave you",
    ),
    "setup.save_failed": Message(
        "登録はできましたが、設定を保存できませんでした。技術担当者に連絡してください。",
        "Registered, but the settings could not be saved. Please call the technician.",
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
