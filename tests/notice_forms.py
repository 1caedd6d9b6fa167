"""The seed's provincial notice 晋民函〔2024〕169号 in each form a forwarded notice arrives in.

Every builder takes the same paragraphs, cut from the seed's OCR text
(fixtures/seed/000_b23ec74a3ac5c572.txt, from the second 版头 on, without the scanning
app's watermark), so each form must give the same record as the seed text does.
"""

from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
WATERMARK = ("CS 扫描全能王", "3亿人都在用的扫描App")
SENTENCE_END = ("。", "：", "；", "”", "）", "》", "号")


def provincial_pages() -> list[list[str]]:
    """The provincial notice's lines on each of its scanned pages, without the watermark."""
    text = SEED.read_text(encoding="utf-8")
    text = text[text.index("山西省民政厅\n") :]
    return [[line.strip() for line in page.splitlines() if line.strip() and line.strip() not in WATERMARK] for page in text.split("\f")]


def provincial_text() -> str:
    """The provincial notice as the seed's text has it."""
    return "\n".join("\n".join(lines) for lines in provincial_pages())


def provincial_paragraphs() -> list[str]:
    """One string a paragraph: the paragraph the scan broke across a page is joined again."""
    out: list[str] = []
    for lines in provincial_pages():
        if lines and out and not out[-1].endswith(SENTENCE_END):
            out[-1] += lines.pop(0)
        out += lines
    return out


def make_docx(path: Path, paragraphs: list[str] | None = None, *, header_table: bool = True) -> Path:
    """A .docx as OA systems export it: the 版头 (发文机关标志 over 发文字号) in a one-column
    table (or typed as paragraphs), the rest as paragraphs, a page-number footer."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor

    paras = paragraphs or provincial_paragraphs()
    document = docx.Document()
    if header_table:
        table = document.add_table(rows=2, cols=1)
        mark, number = table.cell(0, 0).paragraphs[0], table.cell(1, 0).paragraphs[0]
    else:
        mark, number = document.add_paragraph(), document.add_paragraph()
    mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    mark.add_run(paras[0]).font.color.rgb = RGBColor(0xE0, 0, 0)
    number.add_run(paras[1])
    for text in paras[2:]:
        document.add_paragraph(text)
    document.sections[0].footer.paragraphs[0].text = "— 1 —"
    document.save(str(path))
    return path


OFD_NS = "http://www.ofdspec.org/2016"
CHARS_PER_LINE = 28  # GB/T 9704: 28 characters a line, 22 lines a page, 3 号 type (16 pt = 5.6 mm)
LINES_PER_PAGE = 22


def advance(ch: str) -> float:
    """A character's width in ems: Latin letters and digits are half as wide as Chinese."""
    return 0.5 if ch.isascii() else 1.0


def wrap(text: str, room: float) -> tuple[str, str]:
    used, i = 0.0, 0
    while i < len(text) and used + advance(text[i]) <= room:
        used += advance(text[i])
        i += 1
    return text[:i], text[i:]


def ofd_lines(paragraphs: list[str]) -> list[list[tuple[str, float]]]:
    """Pages of (text, indent in ems): the 版头 lines centred, paragraphs wrapped at 28 ems."""
    lines: list[tuple[str, float]] = []
    for i, para in enumerate(paragraphs):
        if i < 2:
            lines.append((para, max(0.0, (CHARS_PER_LINE - sum(map(advance, para))) / 2)))
            continue
        first = True
        while para:
            line, para = wrap(para, CHARS_PER_LINE - (2 if first else 0))
            lines.append((line, 2.0 if first else 0.0))
            first = False
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def make_ofd(path: Path, paragraphs: list[str] | None = None, *, page_loc: str | None = None, seal: bool = True, scan: bytes | None = None) -> Path:
    """An OFD as a suwell/foxit writer lays it out: one TextObject a line, DeltaX advances, the
    页面 A4 in mm, an electronic seal listed in Signs. `page_loc` overrides page 1's BaseLoc;
    `scan` (image bytes) adds a last page that is only that image, as scanned OFDs are."""
    import zipfile

    size = 5.6
    pages = ofd_lines(paragraphs or provincial_paragraphs())
    ns = f'xmlns:ofd="{OFD_NS}"'
    seal_ref = "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" if seal else ""
    parts = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
        f"<ofd:DocInfo><ofd:DocID>8f2b</ofd:DocID><ofd:Title>晋民函〔2024〕169号</ofd:Title><ofd:Creator>OA</ofd:Creator></ofd:DocInfo>"
        f"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>{seal_ref}</ofd:DocBody></ofd:OFD>",
        "Doc_0/PublicRes.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" FontName="仿宋_GB2312"/></ofd:Fonts></ofd:Res>',
    }
    refs = []
    for n, lines in enumerate(pages):
        objects = []
        for i, (text, indent) in enumerate(lines):
            x, y = 28 + indent * size, 37 + i * 10.6
            deltas = " ".join(f"{advance(ch) * size:g}" for ch in text[:-1])
            width = sum(advance(ch) for ch in text) * size
            objects.append(
                f'<ofd:TextObject ID="{100 * n + i + 10}" Boundary="{x:.2f} {y:.2f} {width:.2f} 7" Font="2" Size="{size}">'
                f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="5.6" DeltaX="{deltas}">{escape(text)}</ofd:TextCode></ofd:TextObject>'
            )
        parts[f"Doc_0/Pages/Page_{n}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content><ofd:Layer ID="{n + 3}">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )
        loc = page_loc if (n == 0 and page_loc is not None) else f"Pages/Page_{n}/Content.xml"
        refs.append(f'<ofd:Page ID="{n + 1}" BaseLoc="{loc}"/>')
    res_ref = ""
    if scan is not None:
        n = len(pages)
        parts["Doc_0/DocumentRes.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:MultiMedias>'
            f'<ofd:MultiMedia ID="900" Type="Image"><ofd:MediaFile>scan_900.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias></ofd:Res>'
        )
        parts["Doc_0/Res/scan_900.png"] = scan  # type: ignore[assignment]
        parts[f"Doc_0/Pages/Page_{n}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content><ofd:Layer ID="901">'
            f'<ofd:ImageObject ID="902" ResourceID="900" Boundary="0 0 210 297" CTM="210 0 0 297 0 0"/></ofd:Layer></ofd:Content></ofd:Page>'
        )
        refs.append(f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>')
        res_ref = "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
    parts["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData><ofd:MaxUnitID>999</ofd:MaxUnitID>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{res_ref}</ofd:CommonData>"
        f"<ofd:Pages>{''.join(refs)}</ofd:Pages></ofd:Document>"
    )
    if seal:
        parts["Doc_0/Signs/Signatures.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures {ns}><ofd:Signature ID="1" Type="Seal" BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>'
        parts["Doc_0/Signs/Sign_0/Signature.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature {ns}><ofd:SignedInfo><ofd:Provider ProviderName="山西省电子印章系统"/>'
            f'<ofd:StampAnnot ID="1" PageRef="{len(pages)}" Boundary="120 200 42 42"/></ofd:SignedInfo></ofd:Signature>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            z.writestr(name, xml if isinstance(xml, bytes) else xml.encode("utf-8"))
    return path


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SEED_LINKS = [
    ("/uploads/2024/11/W020241106.pdf", "民政部 全国老龄办关于深入学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神的通知.pdf"),
    ("/uploads/2024/11/W020241106_2.docx", "回执.docx"),
]
SEED_BLOCK = {"索引号": "11140000012129564X/2024-00169", "发布机构": "山西省民政厅", "成文日期": "2024年11月05日", "发布日期": "2024-11-06"}


def make_html(
    path: Path,
    paragraphs: list[str] | None = None,
    *,
    charset: str = "utf-8",
    declared: str | None = None,
    scripts: int = 0,
    block: dict[str, str] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Path:
    """A page saved from a provincial government site: navigation, the title first, the
    政府信息公开 metadata table, the text, the attachment links, a footer. `declared` is the
    charset the page's meta tag claims (it may lie); `scripts` adds that many bytes of script;
    `block` gives the table's 索引号, 发布机构, 成文日期 and 发布日期 and `links` the attachment
    links (address, name shown), the seed notice's by default."""
    paras = paragraphs or provincial_paragraphs()
    block = block or SEED_BLOCK
    links = links or SEED_LINKS
    title, body = paras[2], paras[3:]
    script = f"<script>var tracking = '{'x' * scripts}';</script>" if scripts else ""
    html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{declared or charset}"><title>{escape(title)}_山西省民政厅</title>
<script src="/js/jquery.min.js"></script>{script}<style>.nav a {{ color: #333 }}</style></head>
<body>
<div class="header"><img src="/images/logo.png" alt="山西省民政厅"><div class="search"><input placeholder="请输入关键字"></div></div>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/zwgk/tzgg/">通知公告</a><a href="/bsfw/">办事服务</a><a href="/hdjl/">互动交流</a></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 通知公告</div>
<div class="article">
<h1 class="article-title">{escape(title)}</h1>
<table class="xxgk-table">
<tr><th>索引号：</th><td>{block["索引号"]}</td><th>发布机构：</th><td>{block["发布机构"]}</td></tr>
<tr><th>发文字号：</th><td>{escape(paras[1])}</td><th>成文日期：</th><td>{block["成文日期"]}</td></tr>
<tr><th>主题分类：</th><td>民政、扶贫、救灾\\老龄工作</td><th>发布日期：</th><td>{block["发布日期"]}</td></tr>
</table>
<div class="TRS_Editor" id="zoom">
{"".join(f"<p>{escape(p)}</p>" for p in body if not p.startswith("附件"))}
</div>
<div class="attachments">{escape(next(p for p in body if p.startswith("附件")))}<br>
{"".join(f'<a href="{href}">{escape(name)}</a>' for href, name in links)}</div>
</div>
<div class="share">分享到：<a>微信</a><a>微博</a> 【<a>打印本页</a>】【<a>关闭窗口</a>】</div>
<div class="footer"><p>主办：山西省民政厅 地址：太原市迎泽区迎泽大街 电话：0351-4045678</p><p>晋ICP备05001925号 晋公网安备 14010602000123号</p></div>
</body></html>"""
    path.write_bytes(html.encode(charset))
    return path


def make_eml(path: Path, attachments: list[tuple[str, bytes]], *, subject: str = "转发：省民政厅关于转发银龄行动回信精神的通知", body: str = "王科长：\n省厅通知见附件，请阅处。\n") -> Path:
    """A mail from the provincial office to a city clerk, the notice attached."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "省民政厅老龄工作处 <sxsmztllgzc@163.com>"
    message["To"] = "lfscsk@163.com"
    message["Subject"] = subject
    message["Date"] = "Wed, 06 Nov 2024 09:12:30 +0800"
    message["Message-ID"] = "<20241106091230.169@163.com>"
    message.set_content(body)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(bytes(message))
    return path


def make_docx_textbox(path: Path, paragraphs: list[str] | None = None) -> Path:
    """A .docx whose 版头 is drawn in a text box (wps:txbx, with the VML fallback Word writes
    beside it), as some OA templates do."""
    import docx
    from docx.oxml import parse_xml

    paras = paragraphs or provincial_paragraphs()
    document = docx.Document()
    anchor = document.add_paragraph()
    box_paras = "".join(f"<w:p><w:r><w:t>{escape(t)}</w:t></w:r></w:p>" for t in paras[:2])
    anchor._p.append(
        parse_xml(
            '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
            'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
            'xmlns:v="urn:schemas-microsoft-com:vml">'
            f"<mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:wsp><wps:txbx><w:txbxContent>{box_paras}</w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice>"
            f"<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>{box_paras}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
        )
    )
    for text in paras[2:]:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def convert_with_libreoffice(source: Path, out_dir: Path, suffix: str) -> Path:
    """`source` saved by LibreOffice in the Word 97 binary format, named with `suffix`: what WPS
    Office writes under .wps is that format too (an OLE file with a WordDocument stream)."""
    import subprocess
    import tempfile

    from pipeline.reading.office import soffice

    with tempfile.TemporaryDirectory(prefix="gongwen-test-lo-") as profile:
        subprocess.run(
            [soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--convert-to", "doc:MS Word 97", "--outdir", str(out_dir), str(source)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    converted = out_dir / (source.stem + ".doc")
    target = converted.with_suffix(suffix)
    converted.rename(target)
    return target
