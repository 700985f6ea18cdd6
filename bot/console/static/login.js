// Staff console login: posts JSON (a cross-site form cannot), then opens the console.
(() => {
  'use strict';
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = {
      username: document.getElementById('username').value.trim(),
      password: document.getElementById('password').value,
    };
    if (!body.username || !body.password) {
      error.textContent = '请输入用户名和密码';
      return;
    }
    try {
      const response = await fetch('/api/staff/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      if (response.ok) {
        window.location.assign('/staff');
        return;
      }
      const data = await response.json().catch(() => ({}));
      error.textContent = data.detail && typeof data.detail === 'string' ? data.detail : '登录失败，请稍后再试';
    } catch (e) {
      error.textContent = '网络连接失败，请稍后再试';
    }
  });
})();
