/** The page `npm run dev` serves from its fake Confluence: formatted the way Compliance formats it. */
export const DEMO_PAGE_ID = '163841';
export const DEMO_PAGE_TITLE = 'Restricted Instruments List';

export const DEMO_PAGE_STORAGE = `<p>This list is maintained by Compliance. Employees may not trade the instruments below
in personal accounts. Questions: <a href="mailto:compliance@example.com">compliance@example.com</a>.</p>
<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:rich-text-body><p>Last reviewed by the Compliance desk.</p></ac:rich-text-body></ac:structured-macro>
<table data-layout="default"><colgroup><col /><col /><col /><col /><col /></colgroup>
<tbody>
<tr><th><p><strong>Ticker</strong></p></th><th><p><strong>ISIN</strong></p></th><th><p><strong>Name</strong></p></th><th><p><strong>Reason</strong></p></th><th><p><strong>Restriction Type</strong></p></th></tr>
<tr><td><p>AAPL</p></td><td><p>US0378331005</p></td><td><p>Apple Inc.</p></td><td><p>Inside information</p></td><td><p>Full</p></td></tr>
<tr><td><p>MSFT</p></td><td><p>US5949181045</p></td><td><p>Microsoft Corp.</p></td><td><p>Underwriting mandate</p></td><td><p>Buy only</p></td></tr>
<tr><td><p>TSLA</p></td><td><p>US88160R1014</p></td><td><p>Tesla, Inc.</p></td><td><p>Research blackout</p></td><td><p>Sell only</p></td></tr>
<tr><td><p>NVDA</p></td><td><p>US67066G1040</p></td><td><p>NVIDIA Corp.</p></td><td><p>Advisory mandate</p></td><td><p>Full</p></td></tr>
</tbody></table>`;
