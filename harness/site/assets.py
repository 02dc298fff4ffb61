"""The site's stylesheet and its one small script (vanilla JavaScript, no library), inlined in each page.

The script filters the index (free text over suite, machine, case, metric and
axis values, e.g. ``optimizer=adam lr`` — every word must match — and one
machine or all) and, on a series page, shows one machine or overlays them.
A link can carry both: ``index.html#q=optimizer=adam&machine=box-a``.
The Content-Security-Policy allows nothing from the network.
"""

from __future__ import annotations

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:76em;padding:0 1em 2em;color:#222}
nav{padding:.6em 0;border-bottom:1px solid #ddd;margin-bottom:.8em}nav a{margin-right:1.2em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:3px 8px;border-bottom:1px solid #eee;
text-align:left;vertical-align:middle}th{background:#f6f6f6;position:sticky;top:0}td.num{text-align:right;
font-variant-numeric:tabular-nums}.overview{display:flex;flex-wrap:wrap;gap:.5em 2em;background:#f6f8fa;
padding:.6em 1em;border-radius:6px}.overview b{font-size:1.2em}.regression{color:#c00}.improvement{color:#080}
.pending{color:#777}.better{color:#080}.worse{color:#c00}.muted{color:#777;font-size:.85em}
.controls{margin:.8em 0;display:flex;gap:1em;flex-wrap:wrap}input[type=search]{width:24em}
svg.plot{border:1px solid #eee;max-width:100%;height:auto}.legend span{margin-right:1.5em}
.axes{color:#555;font-size:.8em}code{font-size:.9em}
"""

JS = """
(function(){
  function byId(i){return document.getElementById(i);}
  var search=byId('search'), machine=byId('machine');
  function apply(){
    var words=search?search.value.toLowerCase().split(/\\s+/).filter(Boolean):[];
    var m=machine?machine.value:'';
    var rows=document.querySelectorAll('[data-filter]'), shown=0;
    rows.forEach(function(r){
      var text=r.getAttribute('data-filter').toLowerCase();
      var ok=words.every(function(w){return text.indexOf(w)>=0;}) &&
             (!m || r.getAttribute('data-machine')===m);
      r.hidden=!ok; if(ok){shown++;}
    });
    document.querySelectorAll('g.machine').forEach(function(g){
      g.style.display=(!m || g.getAttribute('data-machine')===m)?'':'none';
    });
    var c=byId('shown'); if(c){c.textContent=String(shown);}
  }
  var h=new URLSearchParams(location.hash.slice(1));
  if(search&&h.get('q')){search.value=h.get('q');}
  if(machine&&h.get('machine')){machine.value=h.get('machine');}
  if(search){search.addEventListener('input',apply);}
  if(machine){machine.addEventListener('change',apply);}
  apply();
})();
"""
