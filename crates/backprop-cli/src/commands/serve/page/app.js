// The page of `backprop serve`. It draws what the server computes; every number comes from the
// library through the JSON routes (README, "Serve"). No dependencies, no build step.
'use strict';

// ---- Text in English and Russian ---------------------------------------------------------
const TEXT = {
  en: {
    subtitle: 'watch back-propagation learn',
    train_title: '1. Train', layers: 'Layers n₁,…,n_L', activation: 'Hidden σ', output_activation: 'Output σ',
    cost: 'Cost C', init: 'Initialisation', batch_size: 'Mini-batch m', epochs: 'Epochs', seed: 'Seed', data: 'Data',
    start: 'Start', pause: 'Pause', step: 'Step', reset: 'Reset',
    cost_curve: 'Training cost (running mean over the epoch)', accuracy_curve: 'Test accuracy per epoch',
    draw_title: '2. Draw a digit', clear: 'Clear', test_example: 'Test example', pick: 'Show',
    predicted: 'Predicted class', label_of_example: 'label of the example',
    steps_title: '3. The five steps on this example', label_y: 'Label (target y)',
    weights_title: '4. Weights of layer 2 and the confusion matrix',
    weights_note: 'Row i of W⁽²⁾ as a 28×28 tile: red positive, blue negative.',
    confusion_note: 'Test split: row = label, column = predicted.', evaluate: 'Evaluate now',
    export_title: '5. Export', export_model: 'Model (safetensors)', export_onnx: 'Model (ONNX)', export_trace: 'Trace (JSON)',
    status_ready: 'ready', status_running: 'training', status_finished: 'finished', status_failed: 'failed',
    epoch: 'epoch', batch: 'mini-batch', samples_s: 'samples/s', samples: 'examples seen',
    step1: 'Step 1. Input', step2: 'Step 2. Forward pass', step3: 'Step 3. Output error (BP1)',
    step4: 'Step 4. Backward pass (BP2)', step5: 'Step 5. Gradients (BP3, BP4)',
    no_hidden: 'no hidden layer: nothing to propagate', saturated: 'saturated: σ′(z) < 0.01',
    saturated_count: 'saturated neurons', hover: 'Hover over a neuron to see its formula with its numbers.',
    tiles_of: '∇W⁽²⁾, row i as a 28×28 tile', cost_of_example: 'cost of this example',
    accuracy: 'accuracy', not_image: 'The input is not a 28×28 image: no tiles.',
    cancels: 'σ′ cancels for this cost and output: δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y',
    softmax_jacobian: 'softmax output: ∘ σ′(z) is the product with the softmax Jacobian',
    draw_hint: 'Draw with the mouse or a finger.',
  },
  ru: {
    subtitle: 'как обучается сеть методом обратного распространения ошибки',
    train_title: '1. Обучение', layers: 'Слои n₁,…,n_L', activation: 'σ скрытых слоёв', output_activation: 'σ выходного слоя',
    cost: 'Функция стоимости C', init: 'Инициализация', batch_size: 'Мини-пакет m', epochs: 'Эпохи', seed: 'Зерно (seed)', data: 'Данные',
    start: 'Старт', pause: 'Пауза', step: 'Шаг', reset: 'Сброс',
    cost_curve: 'Стоимость на обучающей выборке (среднее за эпоху)', accuracy_curve: 'Точность на тестовой выборке по эпохам',
    draw_title: '2. Нарисуйте цифру', clear: 'Очистить', test_example: 'Тестовый пример', pick: 'Показать',
    predicted: 'Предсказанный класс', label_of_example: 'метка примера',
    steps_title: '3. Пять шагов алгоритма на этом примере', label_y: 'Метка (цель y)',
    weights_title: '4. Веса слоя 2 и матрица ошибок',
    weights_note: 'Строка i матрицы W⁽²⁾ как плитка 28×28: красный — положительные, синий — отрицательные.',
    confusion_note: 'Тестовая выборка: строка — метка, столбец — предсказание.', evaluate: 'Оценить сейчас',
    export_title: '5. Экспорт', export_model: 'Модель (safetensors)', export_onnx: 'Модель (ONNX)', export_trace: 'Трассировка (JSON)',
    status_ready: 'готово', status_running: 'идёт обучение', status_finished: 'обучение завершено', status_failed: 'ошибка',
    epoch: 'эпоха', batch: 'мини-пакет', samples_s: 'примеров/с', samples: 'примеров просмотрено',
    step1: 'Шаг 1. Вход', step2: 'Шаг 2. Прямой проход', step3: 'Шаг 3. Ошибка выходного слоя (BP1)',
    step4: 'Шаг 4. Обратный проход (BP2)', step5: 'Шаг 5. Градиенты (BP3, BP4)',
    no_hidden: 'скрытых слоёв нет: распространять нечего', saturated: 'насыщен: σ′(z) < 0.01',
    saturated_count: 'насыщенных нейронов', hover: 'Наведите курсор на нейрон, чтобы увидеть формулу с его числами.',
    tiles_of: '∇W⁽²⁾, строка i как плитка 28×28', cost_of_example: 'стоимость этого примера',
    accuracy: 'точность', not_image: 'Вход — не изображение 28×28: плиток нет.',
    cancels: 'для этой функции стоимости и выходной σ производная σ′ сокращается: δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y',
    softmax_jacobian: 'выход softmax: ∘ σ′(z) — это умножение на якобиан softmax',
    draw_hint: 'Рисуйте мышью или пальцем.',
  },
};
const FIELDS = ['layers', 'activation', 'output_activation', 'cost', 'init', 'eta', 'batch_size', 'epochs', 'seed', 'data'];
const $ = (id) => document.getElementById(id);
let lang = 'en';
const t = (key) => (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;

// ---- State of the page ---------------------------------------------------------------------
const page = {
  options: null, state: null, points: [], epochs: [], sizes: [784, 30, 10],
  pixels: new Float64Array(784), exampleLabel: null, steps: null,
};

// ---- Small helpers ---------------------------------------------------------------------------
async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const json = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw Object.assign(new Error(json.error || response.statusText), { status: response.status });
  return json;
}
function showError(e) {
  const box = $('error');
  if (!e) { box.hidden = true; box.textContent = ''; return; }
  box.hidden = false; box.textContent = e.message || String(e);
}
function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return (a >= 0.01 && a < 1e5) ? v.toFixed(4) : v.toExponential(3);
}
const sup = (l) => String(l).split('').map((c) => '⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾'['0123456789()'.indexOf(c)] || c).join('');
const sub = (l) => String(l).split('').map((c) => '₀₁₂₃₄₅₆₇₈₉'['0123456789'.indexOf(c)] || c).join('');
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
// A diverging colour: blue (negative) – white – red (positive), v in [-1, 1].
function diverging(v) {
  const x = Math.max(-1, Math.min(1, v || 0));
  if (x >= 0) return [255, Math.round(255 * (1 - x)), Math.round(255 * (1 - x))];
  return [Math.round(255 * (1 + x)), Math.round(255 * (1 + x)), 255];
}
function maxAbs(values) {
  let m = 0;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

// ---- Language and URL --------------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  $('lang-en').classList.toggle('active', lang === 'en');
  $('lang-ru').classList.toggle('active', lang === 'ru');
  renderStatus();
  renderCharts();
  renderSteps();
  renderPrediction();
}
function setLanguage(next) {
  lang = next;
  saveUrl();
  applyLanguage();
}
function formSettings() {
  const form = $('settings');
  const value = (name) => form.elements[name].value.trim();
  const layers = value('layers').split(/[,\s-]+/).filter((s) => s !== '').map(Number);
  return {
    layers, activation: value('activation'), output_activation: value('output_activation'), cost: value('cost'),
    init: value('init'), eta: Number(value('eta')), batch_size: Number(value('batch_size')), epochs: Number(value('epochs')),
    seed: Number(value('seed')), data: value('data'),
  };
}
function saveUrl() {
  const params = new URLSearchParams();
  const form = $('settings');
  for (const name of FIELDS) params.set(name, form.elements[name].value);
  params.set('lang', lang);
  history.replaceState(null, '', '?' + params.toString());
}
function fillForm(settings) {
  const form = $('settings');
  for (const name of FIELDS) {
    if (settings[name] === undefined) continue;
    form.elements[name].value = name === 'layers' ? settings.layers.join(',') : settings[name];
  }
}
function settingsFromUrl() {
  const params = new URLSearchParams(location.search);
  const form = $('settings');
  for (const name of FIELDS) {
    if (params.has(name)) form.elements[name].value = params.get(name);
  }
}
function sameSettings(a, b) {
  return FIELDS.every((name) => JSON.stringify(a[name]) === JSON.stringify(b[name]));
}

// ---- Training ------------------------------------------------------------------------------------
async function resetFromForm() {
  const state = await api('/api/reset', formSettings());
  adoptState(state);
  return state;
}
async function control(action) {
  showError(null);
  try {
    if (action === 'reset') { await resetFromForm(); await refreshAll(); return; }
    if (action === 'pause') { await api('/api/pause', {}); return; }
    const settings = formSettings();
    if (!page.state || !sameSettings(settings, page.state.settings)) await resetFromForm();
    await api(action === 'step' ? '/api/step' : '/api/start', {});
  } catch (e) { showError(e); }
}
function adoptState(state) {
  page.state = state;
  page.points = state.points || [];
  page.epochs = state.epochs || [];
  page.sizes = state.sizes;
  $('network-line').textContent = state.network + ' · ' + state.data;
  $('label').max = String(state.sizes[state.sizes.length - 1] - 1);
  if (state.confusion) renderConfusion(state.confusion);
  renderStatus(); renderCharts();
}
function renderStatus() {
  const s = page.state;
  if (!s) return;
  const p = s.progress;
  const parts = [
    t('status_' + p.status),
    `${t('epoch')} ${p.epoch}/${p.epochs}`,
    `${t('batch')} ${p.batch}/${p.batches_per_epoch}`,
    `${Math.round(p.samples_per_second).toLocaleString('en-US')} ${t('samples_s')}`,
    `${p.samples.toLocaleString('en-US')} ${t('samples')}`,
  ];
  $('status').textContent = parts.join(' · ');
  const busy = p.status === 'running' || p.status === 'finished';
  $('start').disabled = busy;
  $('step').disabled = busy;
  $('pause').disabled = p.status !== 'running';
  showError(s.error ? { message: s.error } : null);
}
function connectEvents() {
  const source = new EventSource('/api/events');
  source.addEventListener('state', (e) => { adoptState(JSON.parse(e.data)); refreshAll(); });
  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    if (!page.state) return;
    page.state.progress = p;
    page.state.status = p.status;
    page.points.push(...p.points);
    renderStatus(); renderCharts();
    throttledLive();
  });
  source.addEventListener('epoch', (e) => {
    const m = JSON.parse(e.data);
    page.epochs.push(m);
    if (m.confusion) renderConfusion(m.confusion, m);
    renderCharts();
  });
  // A failure (training diverged) stays shown until a reset: later renders keep it.
  source.addEventListener('failed', (e) => {
    const error = JSON.parse(e.data).error;
    if (page.state) page.state.error = error;
    showError({ message: error });
  });
}
// While training, the weights, the prediction and the steps follow the network about once a second.
let liveTimer = null;
function throttledLive() {
  if (liveTimer) return;
  liveTimer = setTimeout(async () => { await refreshAll(); liveTimer = null; }, 1000);
}
async function refreshAll() {
  await Promise.all([renderWeights(), predict(), traceSteps()]).catch(showError);
}

// ---- Charts --------------------------------------------------------------------------------------
function drawChart(canvas, series, yMin, yMax, xMax, percent) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, left = 48, bottom = 22, top = 8, right = 10;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  const x = (v) => left + (W - left - right) * (v / xMax);
  const y = (v) => top + (H - top - bottom) * (1 - (v - yMin) / (yMax - yMin || 1));
  ctx.strokeStyle = '#d8dce4'; ctx.fillStyle = '#5d6677'; ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (yMax - yMin) * i / 4;
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(W - right, y(v)); ctx.stroke();
    ctx.fillText(percent ? (100 * v).toFixed(0) + '%' : v.toPrecision(2), 4, y(v) + 4);
  }
  const ticks = Math.min(xMax, 6);
  for (let i = 0; i <= ticks; i++) {
    const v = Math.round(xMax * i / ticks);
    ctx.fillText(String(v), x(v) - 3, H - 6);
  }
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color; ctx.lineWidth = 1.8;
    ctx.beginPath();
    s.points.forEach(([px, py], i) => (i ? ctx.lineTo(x(px), y(py)) : ctx.moveTo(x(px), y(py))));
    ctx.stroke();
    if (s.dots) for (const [px, py] of s.points) { ctx.beginPath(); ctx.arc(x(px), y(py), 2.5, 0, 7); ctx.fill(); }
  }
}
function renderCharts() {
  if (!page.state) return;
  const xMax = Math.max(1, page.state.settings.epochs);
  const cost = page.points.filter((p) => Number.isFinite(p.cost)).map((p) => [p.x, p.cost]);
  const costMax = cost.length ? Math.max(...cost.map((p) => p[1])) * 1.05 : 1;
  drawChart($('cost-chart'), [{ points: cost, color: '#2d5fd3' }], 0, costMax, xMax, false);
  const acc = page.epochs.filter((m) => m.test_accuracy !== null).map((m) => [m.epoch, m.test_accuracy]);
  drawChart($('accuracy-chart'), [{ points: acc, color: '#1e8f4e', dots: true }], 0, 1, xMax, true);
  $('cost-chart').dataset.points = String(cost.length);
  $('accuracy-chart').dataset.points = String(acc.length);
}

// ---- Drawing pad ---------------------------------------------------------------------------------
function renderPad() {
  const canvas = $('pad'), ctx = canvas.getContext('2d');
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * page.pixels[i]);
    image.data.set([v, v, v, 255], 4 * i);
  }
  const off = document.createElement('canvas'); off.width = 28; off.height = 28;
  off.getContext('2d').putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}
function brush(cx, cy) {
  // A soft round brush of radius 1.6 pixels, at 28×28 resolution.
  const r = 1.6;
  for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
    for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
      if (x < 0 || y < 0 || x > 27 || y > 27) continue;
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const v = Math.max(0, Math.min(1, 1.25 * (1 - d / r)));
      const i = 28 * y + x;
      page.pixels[i] = Math.max(page.pixels[i], v);
    }
  }
}
function setupPad() {
  const canvas = $('pad');
  let last = null;
  const at = (e) => {
    const rect = canvas.getBoundingClientRect();
    return [28 * (e.clientX - rect.left) / rect.width, 28 * (e.clientY - rect.top) / rect.height];
  };
  const stroke = (p) => {
    if (last) {
      const steps = Math.ceil(Math.hypot(p[0] - last[0], p[1] - last[1]) / 0.3) || 1;
      for (let s = 1; s <= steps; s++) brush(last[0] + (p[0] - last[0]) * s / steps, last[1] + (p[1] - last[1]) * s / steps);
    } else brush(p[0], p[1]);
    last = p;
    page.exampleLabel = null;
    renderPad();
    throttledPredict();
  };
  canvas.addEventListener('pointerdown', (e) => { canvas.setPointerCapture(e.pointerId); last = null; stroke(at(e)); e.preventDefault(); });
  canvas.addEventListener('pointermove', (e) => { if (last) stroke(at(e)); });
  const end = () => { if (last) { last = null; predict(); traceSteps(); } };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  renderPad();
}
let predicting = false, predictAgain = false;
async function throttledPredict() {
  if (predicting) { predictAgain = true; return; }
  predicting = true;
  try { await predict(); } catch (e) { showError(e); }
  predicting = false;
  if (predictAgain) { predictAgain = false; throttledPredict(); }
}
async function predict() {
  if (page.sizes[0] !== 784) return;
  page.prediction = await api('/api/predict', { pixels: Array.from(page.pixels) });
  renderPrediction();
}
function renderPrediction() {
  const p = page.prediction;
  $('example-label').textContent = page.exampleLabel === null ? t('draw_hint') : `${t('label_of_example')}: ${page.exampleLabel}`;
  if (!p) return;
  $('predicted').textContent = String(p.class);
  const bars = $('bars');
  bars.replaceChildren();
  const L = page.sizes.length;
  bars.append(el('div', { class: 'legend' }, `a${sup('(' + L + ')')}`));
  p.output.forEach((v, k) => {
    const fill = el('div', { class: 'fill' });
    fill.style.width = `${Math.max(0, Math.min(1, v)) * 100}%`;
    bars.append(el('div', { class: 'bar' + (k === p.class ? ' best' : '') }, String(k), el('div', { class: 'track' }, fill), fmt(v)));
  });
}
async function pickExample() {
  try {
    const e = await api('/api/example?index=' + encodeURIComponent($('example-index').value));
    page.pixels = Float64Array.from(e.pixels);
    page.exampleLabel = e.label;
    $('label').value = String(e.label);
    renderPad();
    await predict();
    await traceSteps();
  } catch (e) { showError(e); }
}

// ---- The five steps ------------------------------------------------------------------------------
async function traceSteps() {
  if (page.sizes[0] !== page.pixels.length) return;
  const label = Number($('label').value);
  const body = { pixels: Array.from(page.pixels) };
  if (Number.isInteger(label) && label >= 0) body.label = label;
  page.steps = await api('/api/steps', body);
  renderSteps();
}
function strip(name, values, explain, marks) {
  const canvas = el('canvas', { width: String(Math.max(1, values.length)), height: '1' });
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(values.length || 1, 1);
  const scale = maxAbs(values);
  values.forEach((v, i) => image.data.set([...diverging(v / scale), 255], 4 * i));
  ctx.putImageData(image, 0, 0);
  const wrap = el('div', {}, canvas);
  if (marks && marks.some(Boolean)) {
    const m = el('canvas', { width: String(values.length), height: '1', class: 'marks' });
    const mctx = m.getContext('2d');
    mctx.fillStyle = '#c0392b';
    marks.forEach((on, i) => { if (on) mctx.fillRect(i, 0, 1, 1); });
    m.title = t('saturated');
    wrap.append(m);
  }
  const tip = $('tooltip');
  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const i = Math.min(values.length - 1, Math.floor(values.length * (e.clientX - rect.left) / rect.width));
    tip.hidden = false;
    tip.textContent = explain(i);
    tip.style.left = `${Math.min(e.clientX + 12, window.innerWidth - 380)}px`;
    tip.style.top = `${e.clientY + 14}px`;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  canvas.dataset.name = name;
  return el('div', { class: 'strip' }, el('span', { class: 'name' }, name), wrap);
}
function image28(values, scale, size) {
  const canvas = el('canvas', { width: '28', height: '28' });
  canvas.style.width = canvas.style.height = `${size}px`;
  canvas.style.imageRendering = 'pixelated';
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(28, 28);
  values.forEach((v, i) => image.data.set([...diverging(v / scale), 255], 4 * i));
  ctx.putImageData(image, 0, 0);
  return canvas;
}
function renderSteps() {
  const box = $('step-list');
  const s = page.steps;
  if (!box || !s) return;
  const tr = s.trace, L = tr.layers.length, layer = (l) => tr.layers[l - 1];
  const sp = s.sigma_prime, carried = s.carried, limit = s.saturated_below;
  const y = tr.target, out = layer(L);
  $('cost-line').textContent = `C = ${fmt(tr.cost)} (${t('cost_of_example')}; ${tr.cost_function})`;
  const sections = [];
  const section = (title, formula, ...rows) => el('div', { class: 'step' }, el('h3', {}, title), el('p', { class: 'formula' }, formula), ...rows);
  // Step 1.
  const a1 = layer(1).a;
  sections.push(section(t('step1'), 'a⁽¹⁾ = x',
    strip('a⁽¹⁾', a1, (j) => `a${sub(j)}⁽¹⁾ = x${sub(j)} = ${fmt(a1[j])}`)));
  // Step 2.
  const rows2 = [];
  for (let l = 2; l <= L; l++) {
    const d = layer(l), sigma = l === L ? tr.output_activation : tr.activation;
    const saturated = sp[l] ? sp[l].map((v) => v < limit) : null;
    rows2.push(strip(`z⁽${sup(l)}⁾`, d.z, (j) => `z${sub(j)}${sup('(' + l + ')')} = Σₖ w${sub(j)}ₖ${sup('(' + l + ')')} aₖ${sup('(' + (l - 1) + ')')} + b${sub(j)}${sup('(' + l + ')')} = ${fmt(d.z[j])}`));
    rows2.push(strip(`a⁽${sup(l)}⁾`, d.a, (j) => `a${sub(j)}${sup('(' + l + ')')} = ${sigma}(z${sub(j)}${sup('(' + l + ')')}) = ${sigma}(${fmt(d.z[j])}) = ${fmt(d.a[j])}` +
      (sp[l] ? `;  σ′(z) = ${fmt(sp[l][j])}${sp[l][j] < limit ? '  — ' + t('saturated') : ''}` : ''), saturated));
    if (saturated) rows2.push(el('p', { class: 'note saturated' }, `${t('saturated_count')} (σ′ < ${limit}) ${sup('(' + l + ')')}: ${saturated.filter(Boolean).length} / ${saturated.length}`));
  }
  sections.push(section(t('step2'), 'z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾,   a⁽ˡ⁾ = σ(z⁽ˡ⁾),   l = 2 … ' + L, ...rows2));
  // Step 3 (BP1).
  const Ls = sup('(' + L + ')');
  const cancels = s.sigma_prime_cancels;
  const bp1 = tr.cost_function === 'quadratic'
    ? `δ${Ls} = (a${Ls} − y) ∘ σ′(z${Ls})`
    : `δ${Ls} = ∂C/∂a${Ls} ∘ σ′(z${Ls})`;
  const notes3 = [el('p', { class: 'note' }, `y = e${sub(tr.label)} (${t('label_y')} = ${tr.label}). ${t('hover')}`)];
  if (cancels) notes3.push(el('p', { class: 'note' }, t('cancels')));
  else if (sp[L] === null) notes3.push(el('p', { class: 'note' }, t('softmax_jacobian')));
  sections.push(section(t('step3'), bp1 + '   (BP1)', ...notes3,
    strip('y', y, (j) => `y${sub(j)} = ${fmt(y[j])}`),
    strip(`∂C/∂a${Ls}`, out.dc_da, (j) => `∂C/∂a${sub(j)}${Ls} = ${fmt(out.dc_da[j])}` + (tr.cost_function === 'quadratic' ? ` = a${sub(j)} − y${sub(j)} = ${fmt(out.a[j])} − ${fmt(y[j])}` : '')),
    strip(`δ${Ls}`, out.delta, (j) => (sp[L]
      ? `δ${sub(j)}${Ls} = ∂C/∂a${sub(j)} · σ′(z${sub(j)}) = ${fmt(out.dc_da[j])} · ${fmt(sp[L][j])} = ${fmt(out.delta[j])}`
      : `δ${sub(j)}${Ls} = ${fmt(out.delta[j])}`) + (cancels ? `  (= a${sub(j)} − y${sub(j)} = ${fmt(out.a[j] - y[j])})` : ''),
    sp[L] ? sp[L].map((v) => v < limit) : null)));
  // Step 4 (BP2).
  const rows4 = [];
  for (let l = L - 1; l >= 2; l--) {
    const d = layer(l), ls = sup('(' + l + ')'), ln = sup('(' + (l + 1) + ')');
    rows4.push(strip(`δ${ls}`, d.delta, (j) => `δ${sub(j)}${ls} = (Σᵢ wᵢ${sub(j)}${ln} δᵢ${ln}) · σ′(z${sub(j)}${ls}) = ${fmt(carried[l][j])} · ${fmt(sp[l][j])} = ${fmt(d.delta[j])}` +
      (sp[l][j] < limit ? '  — ' + t('saturated') : ''), sp[l].map((v) => v < limit)));
  }
  if (L === 2) rows4.push(el('p', { class: 'note' }, t('no_hidden')));
  sections.push(section(t('step4'), 'δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ σ′(z⁽ˡ⁾),   l = ' + (L - 1) + ' … 2   (BP2)', ...rows4));
  // Step 5 (BP3, BP4).
  const rows5 = [];
  for (let l = 2; l <= L; l++) {
    const d = layer(l), ls = sup('(' + l + ')');
    rows5.push(strip(`∇b${ls}`, d.nabla_b, (j) => `∂C/∂b${sub(j)}${ls} = δ${sub(j)}${ls} = ${fmt(d.nabla_b[j])}   (BP3)`));
  }
  const w2 = layer(2).nabla_w;
  if (page.sizes[0] === 784) {
    const scale = maxAbs(w2.flat());
    const tiles = el('div', { class: 'tiles' });
    w2.slice(0, 64).forEach((row, i) => {
      const c = image28(row, scale, 56);
      c.title = `∇W⁽²⁾ row ${i}: ∂C/∂w${sub(i)}ₖ⁽²⁾ = δ${sub(i)}⁽²⁾ aₖ⁽¹⁾, δ${sub(i)}⁽²⁾ = ${fmt(layer(2).delta[i])}`;
      tiles.append(c);
    });
    rows5.push(el('p', { class: 'note' }, t('tiles_of') + ' (BP4: ∂C/∂wᵢₖ⁽²⁾ = δᵢ⁽²⁾ aₖ⁽¹⁾)'), tiles);
  } else rows5.push(el('p', { class: 'note' }, t('not_image')));
  sections.push(section(t('step5'), '∇b⁽ˡ⁾ = δ⁽ˡ⁾ (BP3),   ∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ (BP4)', ...rows5));
  box.replaceChildren(...sections);
}

// ---- Weights and confusion -----------------------------------------------------------------------
async function renderWeights() {
  const w = await api('/api/weights?layer=2');
  const canvas = $('weight-tiles');
  const ctx = canvas.getContext('2d');
  if (w.cols !== 784) { ctx.clearRect(0, 0, canvas.width, canvas.height); return; }
  const n = Math.min(w.rows, 64), perRow = Math.min(n, 10), tile = 28, gap = 2;
  canvas.width = perRow * (tile + gap);
  canvas.height = Math.ceil(n / perRow) * (tile + gap);
  const scale = maxAbs(w.values);
  for (let i = 0; i < n; i++) {
    const image = ctx.createImageData(28, 28);
    for (let k = 0; k < 784; k++) image.data.set([...diverging(w.values[784 * i + k] / scale), 255], 4 * k);
    ctx.putImageData(image, (i % perRow) * (tile + gap), Math.floor(i / perRow) * (tile + gap));
  }
  canvas.style.width = `${canvas.width * 1.6}px`;
  canvas.style.imageRendering = 'pixelated';
}
function renderConfusion(matrix, summary) {
  const table = $('confusion');
  const n = matrix.length;
  if (n > 30) { table.replaceChildren(); return; }
  const rowMax = matrix.map((r) => Math.max(1, ...r));
  const head = el('tr', {}, el('th', {}, ''), ...matrix.map((_, j) => el('th', {}, String(j))));
  const rows = matrix.map((r, k) => el('tr', {}, el('th', {}, String(k)), ...r.map((v, j) => {
    const cell = el('td', {}, String(v));
    const x = v / rowMax[k];
    cell.style.background = k === j ? `rgba(30,143,78,${0.1 + 0.7 * x})` : (v ? `rgba(192,57,43,${0.15 + 0.7 * x})` : '#f3f4f7');
    return cell;
  })));
  table.replaceChildren(head, ...rows);
  if (summary && summary.test_accuracy !== undefined) {
    $('confusion-summary').textContent = `${t('epoch')} ${summary.epoch}: ${t('accuracy')} ${(100 * summary.test_accuracy).toFixed(2)}% (${summary.test_correct}/${summary.test_total})`;
  }
}
async function evaluateNow() {
  try {
    const e = await api('/api/confusion');
    renderConfusion(e.matrix);
    $('confusion-summary').textContent = `${t('accuracy')} ${(100 * e.accuracy).toFixed(2)}% (${e.correct}/${e.total}), C = ${fmt(e.cost)}`;
  } catch (e) { showError(e); }
}

// ---- Export --------------------------------------------------------------------------------------
async function exportTrace() {
  try {
    const label = Number($('label').value);
    const body = { pixels: Array.from(page.pixels) };
    if (Number.isInteger(label) && label >= 0) body.label = label;
    const trace = await api('/api/trace', body);
    const url = URL.createObjectURL(new Blob([JSON.stringify(trace) + '\n'], { type: 'application/json' }));
    const a = el('a', { href: url, download: 'trace.json' });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) { showError(e); }
}

// ---- Start -----------------------------------------------------------------------------------------
async function main() {
  const params = new URLSearchParams(location.search);
  lang = params.get('lang') || ((navigator.language || '').toLowerCase().startsWith('ru') ? 'ru' : 'en');
  if (!TEXT[lang]) lang = 'en';
  page.options = await api('/api/options');
  const form = $('settings');
  const fill = (name, values) => form.elements[name].replaceChildren(...values.map((v) => el('option', { value: v }, v)));
  fill('activation', page.options.hidden_activations);
  fill('output_activation', page.options.output_activations);
  fill('cost', page.options.costs);
  fill('init', page.options.inits);
  fill('data', page.options.data);
  const state = await api('/api/state');
  fillForm(state.settings);
  adoptState(state);
  // Settings in the URL only fill the form: a link (from any site) must not reset or train the
  // network by itself. Start, Step and Reset apply them, on the user's click.
  settingsFromUrl();
  saveUrl();
  form.addEventListener('change', saveUrl);
  $('start').addEventListener('click', () => control('start'));
  $('pause').addEventListener('click', () => control('pause'));
  $('step').addEventListener('click', () => control('step'));
  $('reset').addEventListener('click', () => control('reset'));
  $('lang-en').addEventListener('click', () => setLanguage('en'));
  $('lang-ru').addEventListener('click', () => setLanguage('ru'));
  $('clear').addEventListener('click', () => { page.pixels.fill(0); page.exampleLabel = null; renderPad(); predict().catch(showError); traceSteps().catch(showError); });
  $('pick').addEventListener('click', pickExample);
  $('label').addEventListener('change', () => traceSteps().catch(showError));
  $('evaluate').addEventListener('click', evaluateNow);
  $('export-trace').addEventListener('click', exportTrace);
  setupPad();
  applyLanguage();
  connectEvents();
  await pickExample();
  await Promise.all([renderWeights(), state.confusion ? null : evaluateNow()]).catch(showError);
}
main().catch(showError);
